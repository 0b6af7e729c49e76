"""Benchmark (not a test): points totals, levels, the team star rating and the balance read at
scale (issue 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hongfeng_bench_points \
        .venv/bin/python -m bench.points

Uses the database in DATABASE_URL (created if missing on PostgreSQL, migrated, demo data loaded
when empty, HONGFENG_TASKS=immediate in this process). Prepares once, and reuses on later runs,
a bench county association (with its own county bureau and police station) holding --teams
(default 2,000) teams of --per-team (default 50) members, ten evaluated activities per team in
each of last year and this year, ten activity ledger entries per member (1,000,000 by default)
and every member's cached totals. The volume is written with set-based SQL (INSERT … SELECT over
generate_series), deterministic from the member number, not through the per-row services.

Then measures:
  1. `rebuild_all_totals()` after every cached total was zeroed on purpose (so the run really
     rewrites every row) — "recompute every level";
  2. `run_rating` for this year on the bench county (team points for the year and the two before)
     — "one year's star rating"; the sum of 1 and 2 has to stay under 30 s;
  3. one member's balance and level: --samples (default 200) random members through the selector
     `points.selectors.summary` in process, and as many `GET /api/v1/me/points` with a bearer
     token through django.test.Client — p50 / p95, target p95 under 20 ms, and no query on the
     ledger per request.
It also prints `EXPLAIN (ANALYZE, BUFFERS)` of the team-points aggregate so the plan is visible.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime

COUNTY = "压测县义警协会"
BUREAU = "压测县公安局"
STATION = "压测派出所"
MOBILE_PREFIX = "199"  # bench accounts: 199 + the member number on 8 digits
ACTIVITIES_PER_YEAR = 10  # per team
ENTRIES_PER_MEMBER = 10  # five in each of the two years
RULE_LABEL = "默认规则（团体标准）"
LAT, LON = 30.0339, 120.8740

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"


def _setup(database_url: str) -> None:
    os.environ.setdefault("HONGFENG_ALLOWED_HOSTS", "testserver")
    from bench.members import _setup as setup

    setup(database_url)


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# ---- preparation ---------------------------------------------------------------------------


def _slots(today: date) -> list[datetime]:
    """The starting times of a team's activities: ten spread over last year, ten over this year
    up to yesterday (local time), in order."""
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    last = [date(today.year - 1, 1, 15) + timedelta(days=30 * k) for k in range(10)]
    elapsed = max((today - date(today.year, 1, 1)).days - 1, 0)
    this = [date(today.year, 1, 1) + timedelta(days=k * elapsed // 10) for k in range(10)]
    return [datetime.combine(d, dtime(9, 0), tzinfo=tz) for d in last + this]


def _level_case(column: str) -> str:
    """`rules.level_of` as a SQL CASE over `column`."""
    from hongfeng.points.rules import LEVELS

    whens = " ".join(
        f"WHEN {column} >= {threshold} THEN {level}"
        for level, (threshold, _label) in reversed(list(enumerate(LEVELS, start=1)))
    )
    return f"CASE {whens} ELSE 0 END"


def _execute(cursor, label: str, sql: str, params=None) -> tuple[int, float]:
    started = time.perf_counter()
    cursor.execute(sql, params)
    seconds = time.perf_counter() - started
    rows = cursor.rowcount
    print(f"  {label}: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s", flush=True)
    return rows, seconds


def bench_county(cast):
    from hongfeng.orgs.models import Unit

    return Unit.objects.filter(parent=cast.units["shaoxing"], name=COUNTY).first()


def prepare(cast, teams: int, per_team: int):
    """The bench county with all its data, in one transaction (all or nothing)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from hongfeng.orgs.models import UnitKind
    from hongfeng.orgs.services import create_unit

    sysadmin = cast.users["system_admin"]
    members = teams * per_team
    timings = []
    started = time.perf_counter()
    with transaction.atomic():
        county = create_unit(
            actor=sysadmin,
            parent=cast.units["shaoxing"],
            kind=UnitKind.COUNTY_ASSOCIATION,
            name=COUNTY,
        )
        bureau = create_unit(
            actor=sysadmin,
            parent=cast.units["shaoxing_bureau"],
            kind=UnitKind.COUNTY_BUREAU,
            name=BUREAU,
        )
        station = create_unit(actor=sysadmin, parent=bureau, kind=UnitKind.STATION, name=STATION)
        with connection.cursor() as cursor:
            # Teams: ids drawn from the sequence first, so the path is right on insert.
            timings.append(
                _execute(
                    cursor,
                    "teams",
                    """
                    WITH s AS (
                        SELECT nextval(pg_get_serial_sequence('orgs_unit', 'id')) AS id, g
                        FROM generate_series(1, %(teams)s) AS g
                    )
                    INSERT INTO orgs_unit (id, name, kind, path, depth, special_tag, region_code,
                        created_at, updated_at, version, guiding_station_id, parent_id, team_id)
                    SELECT id, '压测义警总队' || lpad(g::text, 4, '0'), 'team',
                        %(path)s || id || '/', %(depth)s, '', '', now(), now(), 1,
                        %(station)s, %(county)s, NULL
                    FROM s ORDER BY g
                    """,
                    {
                        "teams": teams,
                        "path": county.path,
                        "depth": county.depth + 1,
                        "station": station.pk,
                        "county": county.pk,
                    },
                )
            )
            timings.append(
                _execute(
                    cursor,
                    "accounts",
                    """
                    INSERT INTO accounts_user (password, mobile, name, is_active,
                        must_change_password, security_stamp, date_joined, disabled_reason,
                        version)
                    SELECT '!', %(prefix)s || lpad(n::text, 8, '0'),
                        substr(%(surnames)s, 1 + n %% 40, 1)
                            || substr(%(given)s, 1 + (n / 40) %% 48, 1),
                        true, false, md5('bench-points-stamp:' || n), now(), '', 1
                    FROM generate_series(1, %(members)s) AS n ORDER BY n
                    """,
                    {
                        "prefix": MOBILE_PREFIX,
                        "surnames": _SURNAMES,
                        "given": _GIVEN,
                        "members": members,
                    },
                )
            )
            timings.append(
                _execute(
                    cursor,
                    "members",
                    """
                    WITH t AS (
                        SELECT id, (row_number() OVER (ORDER BY id) - 1) AS i FROM orgs_unit
                        WHERE parent_id = %(county)s AND kind = 'team'
                    ), u AS (
                        SELECT id, name, substr(mobile, 4)::int AS n FROM accounts_user
                        WHERE mobile LIKE %(like)s
                    )
                    INSERT INTO members_member (name, name_pinyin, name_initials,
                        id_number_encrypted, id_number_index, id_last4, birth_date, gender,
                        address, emergency_contact, emergency_mobile, health_fit,
                        health_declaration_encrypted, political_status, category, status,
                        status_changed_at, joined_on, created_at, updated_at, version, unit_id,
                        user_id, photo)
                    SELECT u.name, 'yace', 'yc', 'bench-placeholder:' || u.n,
                        md5('bench-points-id:' || u.n), lpad((u.n %% 10000)::text, 4, '0'),
                        date '1960-01-01' + (u.n %% 15000),
                        CASE WHEN u.n %% 2 = 0 THEN 'female' ELSE 'male' END,
                        '', '', '', true, '', 'masses', 'other', 'active', now(),
                        date '2024-01-01', now(), now(), 1, t.id, u.id, ''
                    FROM u JOIN t ON t.i = (u.n - 1) / %(per_team)s
                    ORDER BY u.n
                    """,
                    {"county": county.pk, "like": f"{MOBILE_PREFIX}%", "per_team": per_team},
                )
            )
            timings.append(
                _execute(
                    cursor,
                    "activities",
                    """
                    WITH slot AS (
                        SELECT s AS starts_at, (o - 1)::int AS k
                        FROM unnest(%(slots)s::timestamptz[]) WITH ORDINALITY AS x(s, o)
                    )
                    INSERT INTO activities_activity (kind, title, description, core_only,
                        audience_categories, place, latitude, longitude, radius_m, starts_at,
                        ends_at, capacity, waitlist_limit, difficulty, required_equipment,
                        risk_assessment, status, cancel_reason, confirmed_count, waitlist_count,
                        notified_count, checkout_due_at, checkouts_swept_at, effect,
                        effect_summary, created_at, published_at, evaluated_at, version,
                        audience_unit_id, created_by_id, unit_id)
                    SELECT 'patrol', '压测巡逻 ' || to_char(slot.starts_at, 'YYYY-MM-DD'), '',
                        false, '[]', '压测广场', %(lat)s, %(lon)s, 300, slot.starts_at,
                        slot.starts_at + interval '3 hours', %(per_team)s, 50, 'normal', '[]',
                        '', 'evaluated', '', %(per_team)s, 0, 0,
                        slot.starts_at + interval '3 hours 30 minutes',
                        slot.starts_at + interval '3 hours 30 minutes', 'good', '',
                        slot.starts_at - interval '7 days', slot.starts_at - interval '7 days',
                        slot.starts_at + interval '1 day', 1, t.id, %(creator)s, t.id
                    FROM orgs_unit t CROSS JOIN slot
                    WHERE t.parent_id = %(county)s AND t.kind = 'team'
                    ORDER BY slot.k, t.id
                    """,
                    {
                        "slots": _slots(timezone.localdate()),
                        "lat": LAT,
                        "lon": LON,
                        "per_team": per_team,
                        "creator": sysadmin.pk,
                        "county": county.pk,
                    },
                )
            )
            # Member n's entry j: in last year for j < 5, this year for j >= 5, in the team's
            # activity k = (n + 2j) mod 10 of that year (five different ones a year); earned
            # 5.00–155.00. Inserted in ledger order (by time), as a real ledger grows.
            timings.append(
                _execute(
                    cursor,
                    "ledger entries",
                    """
                    WITH m AS (
                        SELECT m.id, m.unit_id, substr(u.mobile, 4)::int AS n
                        FROM members_member m JOIN accounts_user u ON u.id = m.user_id
                        JOIN orgs_unit t ON t.id = m.unit_id
                        WHERE t.parent_id = %(county)s
                    ), a AS (
                        SELECT a.id, a.unit_id, a.title, a.ends_at,
                            (row_number() OVER (PARTITION BY a.unit_id
                                ORDER BY a.starts_at, a.id) - 1)::int AS slot
                        FROM activities_activity a JOIN orgs_unit t ON t.id = a.unit_id
                        WHERE t.parent_id = %(county)s
                    ), e AS (
                        SELECT m.id AS member_id, m.unit_id, a.id AS activity_id, a.title,
                            a.ends_at + interval '1 hour' AS created_at,
                            round(((m.n * 7919 + j * 104729) %% 3001 * (1 + m.n %% 8))::numeric
                                / 80 + 1, 2) AS earned
                        FROM m CROSS JOIN generate_series(0, 9) AS j
                        JOIN a ON a.unit_id = m.unit_id
                            AND a.slot = (j / 5) * 10 + (m.n + 2 * (j %% 5)) %% 10
                    )
                    INSERT INTO points_pointsentry (source, amount, earned, rule_label, inputs,
                        explanation, key, created_at, activity_id, created_by_id, member_id,
                        team_id, rule_id)
                    SELECT 'activity', earned, earned, %(label)s, '{}',
                        e.title || '：压测积分 ' || earned, NULL, created_at, activity_id, NULL,
                        member_id, unit_id, NULL
                    FROM e ORDER BY created_at, member_id
                    """,
                    {"county": county.pk, "label": RULE_LABEL},
                )
            )
            timings.append(
                _execute(
                    cursor,
                    "cached totals",
                    f"""
                    INSERT INTO points_memberpoints (member_id, earned, balance, level, updated_at)
                    SELECT p.member_id, sum(p.earned), sum(p.amount),
                        {_level_case("sum(p.earned)")}, now()
                    FROM points_pointsentry p JOIN orgs_unit t ON t.id = p.team_id
                    WHERE t.parent_id = %(county)s
                    GROUP BY p.member_id
                    ON CONFLICT (member_id) DO NOTHING
                    """,  # noqa: S608 — the f-string only inserts a constant CASE
                    {"county": county.pk},
                )
            )
    committed = time.perf_counter()
    _vacuum()
    elapsed = time.perf_counter() - started
    rows = sum(r for r, _s in timings)
    print(
        f"prepared {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
        f"(inserts {sum(s for _r, s in timings):.1f} s, VACUUM ANALYZE "
        f"{elapsed - (committed - started):.1f} s, the rest: three units through the services "
        "and the commit)"
    )
    return county, elapsed, rows


def _vacuum(*tables: str) -> None:
    from django.db import connection

    tables = tables or (
        "orgs_unit",
        "accounts_user",
        "members_member",
        "activities_activity",
        "points_pointsentry",
        "points_memberpoints",
    )
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def check_prepared(county, teams: int, per_team: int) -> None:
    from hongfeng.activities.models import Activity
    from hongfeng.members.models import Member
    from hongfeng.points.models import PointsEntry

    have = {
        "teams": county.children.filter(kind="team").count(),
        "members": Member.objects.filter(unit__parent=county).count(),
        "activities": Activity.objects.filter(unit__parent=county).count(),
        "entries": PointsEntry.objects.filter(team__parent=county).count(),
    }
    want = {
        "teams": teams,
        "members": teams * per_team,
        "activities": teams * ACTIVITIES_PER_YEAR * 2,
        "entries": teams * per_team * ENTRIES_PER_MEMBER,
    }
    if have != want:
        sys.exit(f"the bench county holds {have}, expected {want}: use another database")


# ---- measurements --------------------------------------------------------------------------


def bench_rebuild(county) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hongfeng.points.services import rebuild_all_totals

    with connection.cursor() as cursor:
        cursor.execute("UPDATE points_memberpoints SET earned = 0, balance = 0, level = 0")
        stale = cursor.rowcount
    _vacuum("points_memberpoints")  # the zeroing's dead rows gone: every run starts alike
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        changed = rebuild_all_totals()
        seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM points_memberpoints c LEFT JOIN (
                SELECT member_id, sum(earned) AS e, sum(amount) AS b FROM points_pointsentry
                GROUP BY member_id) s ON s.member_id = c.member_id
            WHERE c.earned <> coalesce(s.e, 0) OR c.balance <> coalesce(s.b, 0)
                OR c.level <> {_level_case("coalesce(s.e, 0)")}
            """  # noqa: S608 — the f-string only inserts a constant CASE
        )
        wrong = cursor.fetchone()[0]
        cursor.execute("SELECT level, count(*) FROM points_memberpoints GROUP BY 1 ORDER BY 1")
        levels = cursor.fetchall()
    return {
        "seconds": seconds,
        "stale": stale,
        "changed": changed,
        "queries": len(queries),
        "wrong": wrong,
        "levels": levels,
    }


def bench_rating(cast, county, year: int) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from hongfeng.points.services import run_rating

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = run_rating(actor=cast.users["city_admin"], association=county, year=year)
        seconds = time.perf_counter() - started
    results = run.results.count()
    stars = dict(run.results.order_by().values_list("stars").annotate(n=Count("id")))
    return {
        "seconds": seconds,
        "teams": results,
        "stars": stars,
        "queries": len(queries),
        "run": run.pk,
    }


def explain_team_points(county, year: int) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hongfeng.points.services import team_points

    with CaptureQueriesContext(connection) as queries:
        team_points(county, year)
    sql = next(q["sql"] for q in queries.captured_queries if "points_pointsentry" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"{sql}\n\n{plan}"


def bench_reads(county, samples: int, seed: int = 5) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from hongfeng.accounts.services import issue_api_token
    from hongfeng.members.models import Member
    from hongfeng.points import selectors

    ids = list(
        Member.objects.filter(unit__parent=county).order_by("pk").values_list("pk", flat=True)
    )
    rng = random.Random(seed)
    chosen = [ids[rng.randrange(len(ids))] for _ in range(samples)]
    members = {m.pk: m for m in Member.objects.filter(pk__in=chosen).select_related("user")}

    selector_ms = []
    for pk in chosen:
        member = members[pk]
        started = time.perf_counter()
        row = selectors.summary(member)
        selector_ms.append((time.perf_counter() - started) * 1000)
        if not row["level_label"]:
            sys.exit(f"member {pk}: no level label")

    tokens = {pk: issue_api_token(user=members[pk].user, label="bench").token for pk in chosen}
    client = Client()
    for pk in set(chosen):  # warm-up: each token's first use writes last_used_at
        client.get("/api/v1/me/points", HTTP_AUTHORIZATION=f"Bearer {tokens[pk]}")
    api_ms = []
    ledger_queries = 0
    query_counts = []
    for pk in chosen:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/api/v1/me/points", HTTP_AUTHORIZATION=f"Bearer {tokens[pk]}")
            api_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"GET /api/v1/me/points: {response.status_code} {response.content[:300]!r}")
        body = response.json()
        expected = selectors.summary(members[pk])
        if str(body["balance"]) != str(expected["balance"]) or body["level"] != expected["level"]:
            sys.exit(f"member {pk}: API says {body}, the cache says {expected}")
        query_counts.append(len(queries))
        ledger_queries += sum("points_pointsentry" in q["sql"] for q in queries.captured_queries)
    return {
        "selector": selector_ms,
        "api": api_ms,
        "queries": statistics.median(query_counts),
        "ledger_queries": ledger_queries,
    }


def _row(name: str, work: str, result: str, target: str) -> str:
    return f"| {name} | {work} | {result} | {target} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hongfeng_bench_points"
        ),
    )
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--per-team", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    _setup(args.database_url)
    from django.db.models import Max
    from django.utils import timezone

    from hongfeng.activities.models import Activity
    from hongfeng.core import demo
    from hongfeng.points.models import MemberPoints, PointsEntry

    cast = demo.build() if demo.is_empty() else demo.load()
    print(f"database: {args.database_url.rsplit('@', 1)[-1]}")
    county = bench_county(cast)
    if county is None:
        print(
            f"preparing: {args.teams:,} teams × {args.per_team} members, "
            f"{ACTIVITIES_PER_YEAR * 2} activities per team, "
            f"{ENTRIES_PER_MEMBER} ledger entries per member",
            flush=True,
        )
        county, _seconds, _rows = prepare(cast, args.teams, args.per_team)
    else:
        print(f"reusing the bench county #{county.pk} ({county.path})")
    check_prepared(county, args.teams, args.per_team)
    year = (
        (Activity.objects.filter(unit__parent=county).aggregate(last=Max("starts_at"))["last"])
        .astimezone(timezone.get_current_timezone())
        .year
    )
    print(
        f"ledger: {PointsEntry.objects.count():,} entries in all, "
        f"{MemberPoints.objects.count():,} cached totals; rating year {year}",
        flush=True,
    )

    rebuild = bench_rebuild(county)
    rating = bench_rating(cast, county, year)
    plan = explain_team_points(county, year)
    reads = bench_reads(county, args.samples)
    total = rebuild["seconds"] + rating["seconds"]
    sel, api = reads["selector"], reads["api"]
    sel_p95, api_p95 = _percentile(sel, 95), _percentile(api, 95)
    ok = {True: "✔", False: "✘ MISSED"}
    print()
    print("| scenario | work | result | target |")
    print("|---|---|---|---|")
    print(
        _row(
            "`rebuild_all_totals()` (cached totals zeroed first)",
            f"{rebuild['stale']:,} members, {PointsEntry.objects.count():,} entries",
            f"{rebuild['seconds']:.2f} s ({rebuild['changed']:,} rows rewritten, "
            f"{rebuild['queries']} queries)",
            "",
        )
    )
    print(
        _row(
            f"`run_rating` {year}, bench county",
            f"{rating['teams']:,} teams, 3 years of team points",
            f"{rating['seconds']:.2f} s ({rating['queries']} queries)",
            "",
        )
    )
    print(
        _row(
            "levels + rating",
            "",
            f"**{total:.2f} s**",
            f"< 30 s {ok[total < 30]}",
        )
    )
    print(
        _row(
            "`selectors.summary(member)` in process",
            f"{len(sel)} random members",
            f"p50 {statistics.median(sel):.2f} ms, p95 {sel_p95:.2f} ms, max {max(sel):.2f} ms",
            f"p95 < 20 ms {ok[sel_p95 < 20]}",
        )
    )
    print(
        _row(
            "`GET /api/v1/me/points` (test client, bearer token)",
            f"{len(api)} requests, {reads['queries']:.0f} queries each",
            f"p50 {statistics.median(api):.2f} ms, p95 {api_p95:.2f} ms, max {max(api):.2f} ms",
            f"p95 < 20 ms {ok[api_p95 < 20]}",
        )
    )
    print()
    print(
        f"rebuild check: {rebuild['wrong']} cached totals differ from the ledger; levels "
        + ", ".join(f"{lv}: {n:,}" for lv, n in rebuild["levels"])
    )
    print(f"rating run #{rating['run']}: stars → teams {dict(sorted(rating['stars'].items()))}")
    print(f"ledger queries during the {len(api)} API reads: {reads['ledger_queries']}")
    print()
    print("team_points aggregate, EXPLAIN (ANALYZE, BUFFERS):")
    print(plan)


if __name__ == "__main__":
    main()
