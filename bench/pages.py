"""Scenario (b): each role's home page (`GET /`, session cookie) and main API read (bearer
token) at the seed's scale, over HTTP with concurrent clients — against the same numbers
computed by one hand-written SQL query per request, run directly against the database with the
same concurrency.

The main API read is the member list's first page with its count (`GET /api/v1/members`) for
every role that keeps or guides members; for the volunteer, their sign-ups
(`GET /api/v1/me/activities`) and their points and level (`GET /api/v1/me/points`).

Before measuring, the hand-written home query is checked against the page's own numbers
(`hongfeng.core.dashboard.cards_for` in process) and the API's count against the query's: a
difference is reported and fails the row — a baseline that computes something else would be no
baseline.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bench.harness import RawDatabase, bearer, cookie, drive, latency, repeat_sql
from bench.members import (
    PAGE_SIZE,
    leader_roles,
    member_page,
    page_count,
    serving_statuses,
    sql_list,
)
from bench.prepare import role_specs
from bench.report import Row

# ---- reach in SQL --------------------------------------------------------------------------


def _guided_teams(path_param: str = "%s") -> str:
    """Ids of the teams guided by a station under a police unit's path."""
    return (
        "SELECT gt.id FROM orgs_unit gt JOIN orgs_unit gs ON gs.id = gt.guiding_station_id "
        f"WHERE gt.kind = 'team' AND gs.path LIKE {path_param}"
    )


def reach_sql(reach: str, unit, alias: str) -> tuple[str, list]:
    """`access.scope_q` for one assignment, by hand: the units (alias) its reach covers."""
    like = unit.path + "%"
    if reach == "subtree":
        return f"{alias}.path LIKE %s", [like]
    if reach == "below":
        return f"({alias}.path LIKE %s AND {alias}.depth > %s)", [like, unit.depth]
    if reach == "guided":
        return (
            f"({alias}.path LIKE %s OR {alias}.id IN ({_guided_teams()}) "
            f"OR {alias}.team_id IN ({_guided_teams()}))",
            [like, like, like],
        )
    chain = [*unit.ancestor_ids(), unit.pk]
    team_id = unit.team_id_or_self
    chain = chain[chain.index(team_id) :] if team_id in chain else [unit.pk]
    return f"{alias}.id IN ({', '.join(str(int(i)) for i in chain)})", []


def scope_sql(user, capability: str, alias: str) -> tuple[str, list]:
    """The OR of the user's reaches for `capability` over `alias` ("1 = 0" for none)."""
    from hongfeng.accounts import access

    parts, params = [], []
    for assignment in access.assignments(user):
        reach = access.CAPABILITIES[assignment.role].get(capability)
        if reach is None:
            continue
        if assignment.unit_id is None:
            return "1 = 1", []
        sql, values = reach_sql(reach.value, assignment.unit, alias)
        parts.append(sql)
        params += values
    return ("(" + " OR ".join(parts) + ")", params) if parts else ("1 = 0", [])


# ---- the home page, by hand ----------------------------------------------------------------


def _service_card(db: RawDatabase, user, member) -> tuple[list[str], list, list[str]]:
    """My service card: settled hours this month, unread messages, open activities I may join
    (and my next activities, shown as links)."""
    from django.utils import timezone

    from hongfeng.activities.services.attendance import month_bounds

    now = timezone.now()
    start, end = month_bounds(timezone.localdate().replace(day=1))
    chain = [*member.unit.ancestor_ids(), member.unit_id]
    scope, scope_params = scope_sql(user, "activities.view", "au")
    audience_scope, audience_params = scope_sql(user, "activities.view", "aa")
    columns = [
        "(SELECT coalesce(sum(h.hours), 0) FROM activities_hoursentry h "
        "JOIN activities_activity a ON a.id = h.activity_id "
        "WHERE h.member_id = %s AND a.starts_at >= %s AND a.starts_at < %s)",
        "(SELECT count(*) FROM notices_notice n "
        "WHERE n.recipient_id = %s AND n.channel = 'inbox' AND n.read_at IS NULL)",
        "(SELECT count(*) FROM activities_activity a "
        "JOIN orgs_unit au ON au.id = a.unit_id JOIN orgs_unit aa ON aa.id = a.audience_unit_id "
        f"WHERE ({scope} OR {audience_scope} "
        f"OR (a.audience_unit_id IN ({', '.join(str(int(i)) for i in chain)}) "
        "AND a.status <> 'draft') "
        "OR a.id IN (SELECT p.activity_id FROM activities_participation p WHERE p.member_id = %s))"
        " AND a.status IN ('published', 'in_progress') AND a.ends_at > %s "
        "AND NOT EXISTS (SELECT 1 FROM activities_participation p "
        "WHERE p.activity_id = a.id AND p.member_id = %s))",
        # the next three of my sign-ups are links on the card, not numbers: fetched, not compared
        "(SELECT count(*) FROM activities_participation p "
        "JOIN activities_activity a ON a.id = p.activity_id "
        "WHERE p.member_id = %s AND a.ends_at > %s AND p.status IN ('confirmed', 'waitlisted'))",
    ]
    params = [member.pk, start, end, user.pk]
    params += [*scope_params, *audience_params, member.pk, now, member.pk]
    params += [member.pk, now]
    # "open": the activities not yet answered; the card counts only those the member may join
    # (every eligibility rule, services.eligibility — held equal to the 可报名 list by
    # tests/core/test_home.py), so it is fetched here, not compared (see _page_numbers)
    return columns, params, ["hours", "unread", "-open", "-mine"]


def _volunteer_card(db: RawDatabase, assignment) -> tuple[list[str], list, list[str]]:
    """A 队员's card: their team chain's leaders by name (not numbers: fetched, not compared)."""
    unit = assignment.unit
    chain = [*unit.ancestor_ids(), unit.pk]
    leaders = leader_roles()
    names = db.text_agg("lu.name")
    columns = [
        f"(SELECT {names} FROM accounts_roleassignment ra "
        "JOIN accounts_user lu ON lu.id = ra.user_id "
        f"WHERE ra.unit_id IN ({', '.join(str(int(i)) for i in chain)}) "
        f"AND ra.role IN ({leaders}) AND ra.revoked_at IS NULL)"
    ]
    return columns, [], ["-leaders"]


def _unit_card(db: RawDatabase, user, assignment) -> tuple[list[str], list, list[str]]:
    """A unit card: active units below by kind (special groups apart), guided teams (police),
    serving members, distinct role holders."""
    from hongfeng.accounts import access
    from hongfeng.orgs.selectors import KIND_ORDER

    kinds = [str(kind) for kind in KIND_ORDER]
    unit = assignment.unit
    like = unit.path + "%"
    by_kind = ", ".join(
        f"(SELECT count(*) FROM orgs_unit k WHERE k.path LIKE %s AND k.id <> %s "
        f"AND k.archived_at IS NULL AND k.kind = '{kind}'"
        + (" AND k.special_tag = ''" if kind == "group" else "")
        + ")"
        for kind in kinds
    )
    columns = [by_kind]
    params: list = [like, unit.pk] * len(kinds)
    names = [f"units:{k}" for k in kinds]
    columns.append(
        "(SELECT count(*) FROM orgs_unit k WHERE k.path LIKE %s AND k.id <> %s "
        "AND k.archived_at IS NULL AND k.kind = 'group' AND k.special_tag <> '')"
    )
    params += [like, unit.pk]
    names.append("units:special")
    if unit.is_police:
        columns.append(
            "(SELECT count(*) FROM orgs_unit gt JOIN orgs_unit gs ON gs.id = gt.guiding_station_id"
            " WHERE gt.kind = 'team' AND gt.archived_at IS NULL AND gs.path LIKE %s)"
        )
        params.append(like)
        names.append("guided")
    if access.can(user, "members.view", unit):
        serving = serving_statuses()
        # members.selectors.within_unit_q: a police unit counts the teams it guides
        within, within_params = (
            reach_sql("guided", unit, "u") if unit.is_police else ("u.path LIKE %s", [like])
        )
        columns.append(
            "(SELECT count(*) FROM members_member m JOIN orgs_unit u ON u.id = m.unit_id "
            f"WHERE {within} AND m.status IN ({serving}))"
        )
        params += within_params
        names.append("serving")
    if access.has_capability(user, "roles.view"):
        from hongfeng.accounts.models import THREE_POWERS

        powers = sql_list(THREE_POWERS)
        columns.append(
            "(SELECT count(DISTINCT ra.user_id) FROM accounts_roleassignment ra "
            "JOIN orgs_unit u ON u.id = ra.unit_id WHERE u.path LIKE %s "
            f"AND u.archived_at IS NULL AND ra.revoked_at IS NULL AND ra.role NOT IN ({powers}))"
        )
        params.append(like)
        names.append("holders")
    return columns, params, names


def home_query(db: RawDatabase, user) -> tuple[str, list, list[str]]:
    """Every number of the user's home page in one SELECT of scalar subqueries, card by card as
    `dashboard.cards_for` builds them (the service card, then one card per assignment)."""
    from hongfeng.accounts import access
    from hongfeng.accounts.models import Role
    from hongfeng.members.models import Member

    columns: list[str] = []
    params: list = []
    names: list[str] = []
    member = Member.objects.select_related("unit").filter(user=user).first()
    parts = [_service_card(db, user, member)] if member is not None else []
    for assignment in access.assignments(user):
        if assignment.unit_id is None:
            raise NotImplementedError("platform-wide roles have no bench home query")
        if assignment.role == Role.VOLUNTEER:
            parts.append(_volunteer_card(db, assignment))
        else:
            parts.append(_unit_card(db, user, assignment))
    for part_columns, part_params, part_names in parts:
        columns += part_columns
        params += part_params
        names += part_names
    return "SELECT " + ", ".join(columns), params, names


# Home numbers the hand-written query does not recompute: the activities a member can join
# (judged by every eligibility rule; see _service_card).
NOT_BY_HAND = {"可报名活动"}


def _page_numbers(user) -> list[float]:
    """The numbers on the user's home page, as the page computes them (a star rating's ★
    text is not a number)."""
    from hongfeng.core.dashboard import cards_for

    numbers = []
    for card in cards_for(user):
        for stat in card.stats:
            if stat.label in NOT_BY_HAND or str(stat.value).startswith(("★", "未")):
                continue
            numbers.append(round(float(Decimal(str(stat.value))), 2))
    return sorted(n for n in numbers if n)


def _sql_numbers(row: tuple, names: list[str]) -> list[float]:
    return sorted(
        round(float(value), 2)
        for value, name in zip(row, names, strict=True)
        if not name.startswith("-") and value
    )


# ---- the main API read, by hand ------------------------------------------------------------


@dataclass(frozen=True)
class ApiRead:
    """One API read: the path, the same answer in hand-written SQL, and how to compare the
    two (what the answer says, what the SQL says)."""

    path: str
    sql: str
    params: list
    said: Callable[[dict], object]
    by_hand: Callable[[list[tuple]], object]
    what: str  # for the table's work column, from the answer


def _paged(path: str, sql: str, params: list) -> ApiRead:
    return ApiRead(
        path,
        sql,
        params,
        said=lambda body: body.get("count"),
        by_hand=page_count,
        what="first page of {}",
    )


def api_reads(db: RawDatabase, key: str, user) -> list[ApiRead]:
    """The role's main API reads: for a volunteer their own sign-ups and their points and
    level (issue 5's read path), for everyone else the member list's first page."""
    from hongfeng.members.models import Member

    if key == "volunteer":
        member = Member.objects.get(user=user)
        sign_ups = f"""
            SELECT p.id, a.id, a.kind, a.title, u.id, u.name, u.kind, a.place, a.starts_at,
                a.ends_at, a.status, a.difficulty, a.capacity, a.confirmed_count,
                a.waitlist_count, p.status,
                (SELECT sum(h.hours) FROM activities_hoursentry h
                 WHERE h.member_id = p.member_id AND h.activity_id = a.id),
                count(*) OVER ()
            FROM activities_participation p
            JOIN activities_activity a ON a.id = p.activity_id
            JOIN orgs_unit u ON u.id = a.unit_id
            WHERE p.member_id = %s AND p.status <> 'declined'
            ORDER BY a.starts_at DESC, p.id DESC
            LIMIT {PAGE_SIZE}
        """
        points = "SELECT earned, balance, level FROM points_memberpoints WHERE member_id = %s"
        return [
            _paged("/api/v1/me/activities", sign_ups, [member.pk]),
            ApiRead(
                "/api/v1/me/points",
                points,
                [member.pk],
                said=lambda body: body.get("level"),
                by_hand=lambda rows: rows[0][2] if rows else 0,
                what="level {}",
            ),
        ]
    from hongfeng.accounts.access import own_file_in_reach

    scope, params = scope_sql(user, "members.view", "u")
    if own_file_in_reach(user, "members.view") is False:  # as the app: the OR only if needed
        scope, params = f"({scope} OR m.user_id = %s)", [*params, user.pk]
    return [_paged("/api/v1/members", *member_page(db, scope, params))]


# ---- the runs ------------------------------------------------------------------------------


def _row(scenario, work, results, seconds, base, base_seconds, rss) -> Row:
    stats = latency([ms for _, ms, _ in results])
    base_stats = latency([ms for ms, _ in base])
    throughput = len(results) / seconds
    base_rate = len(base) / base_seconds
    return Row(
        scenario=scenario,
        work=work,
        seconds=seconds,
        throughput=throughput,
        p50=stats["p50"],
        p95=stats["p95"],
        p99=stats["p99"],
        rss=rss,
        baseline=f"SQL {base_rate:,.0f} q/s, p95 {base_stats['p95']:.1f} ms",
        ratio=throughput / base_rate,
        target="p95 < 300 ms",
        ok=stats["p95"] < 300,
    )


def _failures(results, expect: int = 200) -> list:
    return [(status, str(body)[:200]) for status, _, body in results if status != expect]


def bench_role(server, db: RawDatabase, cast, spec, *, samples: int, clients: int) -> list[Row]:
    """One role: the home page and the main API read, each beside its hand-written query."""
    user = cast.users[spec.key]
    rows = []

    # The home page.
    sql, params, names = home_query(db, user)
    conn = db.connect()
    try:
        checked = db.run(conn, sql, params)[0]
    finally:
        conn.close()
    page, by_hand = _page_numbers(user), _sql_numbers(checked, names)
    page_request = ("GET", "/", cookie(cast.sessions[spec.key]), None)
    drive(server.port, [page_request] * clients, clients)  # warm-up: every worker
    server.memory.reset()
    results, seconds = drive(server.port, [page_request] * samples, clients)
    rss = server.memory.peak()
    base, base_seconds = repeat_sql(db, [(sql, tuple(params))] * samples, clients)
    row = _row(
        f"b home page · {spec.label}",
        f"{samples:,} × GET / ({results[0][2].get('bytes', 0):,} bytes)",
        results,
        seconds,
        base,
        base_seconds,
        rss,
    )
    bad = _failures(results)
    row.notes.append(f"numbers on the page {page}")
    if page != by_hand:
        row.fail(f"THE HAND-WRITTEN SQL SAYS {by_hand}")
    if bad:
        row.fail(f"FAILED REQUESTS: {len(bad)}, first {bad[0]}")
    rows.append(row)

    # The main API reads.
    for read in api_reads(db, spec.key, user):
        api_request = ("GET", read.path, bearer(cast.tokens[spec.key]), None)
        drive(server.port, [api_request] * clients, clients)
        server.memory.reset()
        results, seconds = drive(server.port, [api_request] * samples, clients)
        rss = server.memory.peak()
        base, base_seconds = repeat_sql(db, [(read.sql, tuple(read.params))] * samples, clients)
        said, by_hand = read.said(results[0][2]), read.by_hand(base[0][1])
        shown = f"{said:,}" if isinstance(said, int) else str(said)
        row = _row(
            f"b API {read.path.removeprefix('/api/v1')} · {spec.label}",
            f"{samples:,} × {read.what.format(shown)}",
            results,
            seconds,
            base,
            base_seconds,
            rss,
        )
        bad = _failures(results)
        if said != by_hand:
            row.fail(f"THE API SAYS {said}, THE HAND-WRITTEN SQL {by_hand}")
        if bad:
            row.fail(f"FAILED REQUESTS: {len(bad)}, first {bad[0]}")
        rows.append(row)
    return rows


def bench_roles(server, db: RawDatabase, cast, *, samples: int, clients: int) -> list[Row]:
    """Every role of `prepare.role_specs`, narrowest scope first."""
    rows = []
    for spec in role_specs():
        rows += bench_role(server, db, cast, spec, samples=samples, clients=clients)
        print(f"        {spec.label}: done", flush=True)
    return rows
