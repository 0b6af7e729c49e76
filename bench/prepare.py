"""The bench's data, prepared once per database and scale and reused on later runs.

- The load: `hongfeng seed --scale <scale> --seed <seed>` (run as a command, as an operator
  would), which builds its own tower under "压测省义警协会（<scale>·种子<seed>）".
- The bench cast: one account per role the scenarios read as, at the seed's first city, its
  first county, that county's first team and the team's guiding station. A role holder the seed
  already has on that unit is used as it is; a missing one gets a bench account, granted
  through the project's services by a bench 安全管理员.
- The sign-up team: "压测报名总队" under the same county, whose first group holds the members
  that sign up and check in (imported through the roster bulk path, then made eligible:
  pre-job training, health, insurance), and whose second squad receives the roster import.

Bench people have mobiles 16<scale digit><two seed digits><six digits> and ID numbers with
region 6<scale digit><two seed digits>…, so they never meet the seed's (19…/5…) nor the demo's.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.names import person_name

SIGNUP_TEAM = "压测报名总队"
SIGNUP_SQUAD, IMPORT_SQUAD, GROUP = "第1分队", "第2分队", "第1小组"
SECURITY_NUMBER = 1  # the bench 安全管理员's running number
FIRST_HOLDER = 10  # bench role holders: 10, 11, …
FIRST_SIGNUP = 100_000  # sign-up members: 100,000 onwards
FIRST_IMPORT = 500_000  # roster import rows: 500,000 onwards (rolled back after each run)
IN_PROCESS_SCALES = {"small", "county"}  # seeded in this process (no second Django start-up)


@dataclass(frozen=True)
class RoleSpec:
    key: str
    label: str  # in the table
    role: str
    unit_key: str


def role_specs() -> list[RoleSpec]:
    """The roles whose home page and main API read are measured, narrowest scope first."""
    from hongfeng.accounts.models import Role

    return [
        RoleSpec("volunteer", "volunteer", Role.VOLUNTEER, "team"),
        RoleSpec("captain", "team captain", Role.CAPTAIN, "team"),
        RoleSpec("county_admin", "county association admin", Role.ASSOCIATION_ADMIN, "county"),
        RoleSpec("city_admin", "city association admin", Role.ASSOCIATION_ADMIN, "city"),
        RoleSpec(
            "province_admin", "province association admin", Role.ASSOCIATION_ADMIN, "province"
        ),
        RoleSpec("station_officer", "police station officer", Role.STATION_OFFICER, "station"),
        RoleSpec("bureau_officer", "city police bureau officer", Role.BUREAU_OFFICER, "bureau"),
    ]


@dataclass
class BenchCast:
    """The units and accounts the scenarios use (see the module docstring)."""

    scale: str
    seed: int
    units: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    security: object = None
    tokens: dict = field(default_factory=dict)  # role key → API bearer token (this run's)
    sessions: dict = field(default_factory=dict)  # role key → session cookie (this run's)


# ---- numbers -------------------------------------------------------------------------------


def _code(scale: str) -> int:
    from hongfeng.core.seed import SCALES

    return SCALES[scale].code


def bench_mobile(scale: str, seed: int, n: int) -> str:
    """A bench person's mobile number: 16 + scale digit + seed + six digits of n."""
    return f"16{_code(scale)}{seed:02d}{n:06d}"


def bench_id_number(scale: str, seed: int, n: int) -> str:
    """A valid GB 11643 number, unique per (scale, seed, n < 10⁸): the region carries the
    scale, the seed and n / 10,000, the birth date (1966–1993) n % 10,000, the sequence
    n / 1,000,000."""
    from hongfeng.core.idnumber import check_character

    region = f"6{_code(scale)}{seed:02d}{(n // 10_000) % 100:02d}"
    born = date(1966, 1, 1) + timedelta(days=n % 10_000)
    first17 = f"{region}{born:%Y%m%d}{(n // 1_000_000) % 1000:03d}"
    return first17 + check_character(first17)


# ---- the seed ------------------------------------------------------------------------------


def ensure_seed(scale: str, seed: int) -> None:
    """Run `hongfeng seed` once for this scale and seed; refuse a half-finished one."""
    from django.core.management import call_command
    from django.db import connections

    from hongfeng.core import seed as seeding
    from hongfeng.members.models import Member
    from hongfeng.orgs.models import Unit

    if not seeding.is_seeded(scale, seed):
        print(
            f"seeding: hongfeng seed --scale {scale} --seed {seed} (once per database)", flush=True
        )
        started = time.perf_counter()
        if scale in IN_PROCESS_SCALES:
            call_command("seed", "--scale", scale, "--seed", str(seed))
        else:
            # In its own process: the seed's memory (up to 2 GB at province scale) must not
            # stay in this one, whose RSS the in-process scenarios report.
            connections.close_all()  # SQLite: the seed writes from another process
            command = [sys.executable, "-m", "hongfeng", "seed", "--scale", scale]
            command += ["--seed", str(seed)]
            # fixed arguments, never user input; same environment (keys, database)
            done = subprocess.run(command, env=os.environ.copy(), check=False)  # noqa: S603
            if done.returncode:
                sys.exit(f"hongfeng seed failed (exit {done.returncode})")
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    root = Unit.objects.get(parent__isnull=True, name=seeding.root_name(scale, seed))
    # The seed commits team by team in creation order: if its last team has members, it ran
    # to the end (a stopped seed leaves the root and the tower but empty teams).
    last_team = (
        Unit.objects.filter(path__startswith=root.path, kind="team")
        .exclude(name=SIGNUP_TEAM)
        .order_by("-id")
        .first()
    )
    if last_team is None or not Member.objects.filter(unit__path__startswith=last_team.path):
        sys.exit(
            f"the {scale} seed in this database is incomplete (its last team has no members): "
            "an interrupted `hongfeng seed`? Use a fresh database."
        )


def autovacuum_now() -> tuple[list[str], list[str]]:
    """PostgreSQL: what autovacuum would do to every table, done now — VACUUM (ANALYZE) where
    more than a fifth was inserted or died since the last vacuum, ANALYZE where more than a
    tenth changed since the last analyze. Returns (vacuumed, analyzed).

    Bulk loads (the seed, the sign-up members, earlier runs) leave the planner blind and the
    visibility map empty on a server where autovacuum is off or has not caught up: before this,
    a county admin's home page spent 1.3 s in one count (the planner expected one unit where
    there were 126), and every member count read the whole table because index-only scans
    had to visit the heap (45 ms → 5 ms for a city's 31,600 files once vacuumed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return [], []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT relname,
                   n_dead_tup + n_ins_since_vacuum > 0.2 * n_live_tup + 1000,
                   coalesce(last_analyze, last_autoanalyze) IS NULL
                     OR n_mod_since_analyze > 0.1 * n_live_tup + 50
            FROM pg_stat_user_tables
            WHERE n_live_tup + n_mod_since_analyze + n_dead_tup > 0
            ORDER BY relname
            """
        )
        tables = cursor.fetchall()
        vacuumed = [name for name, vacuum, _ in tables if vacuum]
        analyzed = [name for name, vacuum, analyze in tables if analyze and not vacuum]
        for name in vacuumed:
            cursor.execute(f'VACUUM (ANALYZE) "{name}"')
        for name in analyzed:
            cursor.execute(f'ANALYZE "{name}"')
    return vacuumed, analyzed


# ---- the cast ------------------------------------------------------------------------------


def _first(queryset):
    found = queryset.order_by("id").first()
    if found is None:
        raise RuntimeError(f"the seed has no {queryset.model.__name__} where the bench needs one")
    return found


def _units(scale: str, seed: int) -> dict:
    from hongfeng.core.seed import root_name
    from hongfeng.orgs.models import Unit, UnitKind

    province = Unit.objects.get(parent__isnull=True, name=root_name(scale, seed))
    city = _first(Unit.objects.filter(parent=province, kind=UnitKind.CITY_ASSOCIATION))
    county = _first(Unit.objects.filter(parent=city, kind=UnitKind.COUNTY_ASSOCIATION))
    team = _first(Unit.objects.filter(parent=county, kind=UnitKind.TEAM).exclude(name=SIGNUP_TEAM))
    station = team.guiding_station
    county_bureau = station.parent
    return {
        "province": province,
        "city": city,
        "county": county,
        "team": team,
        "station": station,
        "bureau": county_bureau.parent,  # the city bureau: the teams of every county in the city
    }


def _security_admin(scale: str, seed: int):
    from hongfeng.accounts.models import Role
    from hongfeng.accounts.services import bootstrap_three_powers_account

    return bootstrap_three_powers_account(
        mobile=bench_mobile(scale, seed, SECURITY_NUMBER),
        name="压测安全管理员",
        password=None,
        role=Role.SECURITY_ADMIN,
    )


def _holder(cast: BenchCast, spec: RoleSpec, number: int):
    """Whoever holds the role on exactly that unit (the seed's, or an earlier run's); else a
    new bench account granted through the services."""
    from hongfeng.accounts.models import RoleAssignment
    from hongfeng.accounts.services import grant_role_by_mobile
    from hongfeng.members.models import Member

    unit = cast.units[spec.unit_key]
    if spec.key == "volunteer":  # a seeded member of the team with their file, and no other role
        leaders = RoleAssignment.objects.active().exclude(role=spec.role).values("user_id")
        member = _first(
            Member.objects.filter(unit__path__startswith=unit.path, status="active")
            .filter(
                user__role_assignments__role=spec.role,
                user__role_assignments__revoked_at__isnull=True,
            )
            .exclude(user_id__in=leaders)
        )
        return member.user
    held = (
        RoleAssignment.objects.active()
        .filter(role=spec.role, unit=unit, user__is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if held is not None:
        return held.user
    assignment, _password = grant_role_by_mobile(
        actor=cast.security,
        mobile=bench_mobile(cast.scale, cast.seed, number),
        name=f"压测{spec.label.split()[0]}",
        role=spec.role,
        unit=unit,
    )
    user = assignment.user
    # As the demo does: the bench never logs in with the initial password, it opens sessions
    # directly, and a pending password change would turn every page into a redirect.
    user.must_change_password = False
    user.save(update_fields=["must_change_password"])
    return user


def _signup_team(cast: BenchCast):
    """The sign-up team under the bench county (created once, by the county's admin)."""
    from hongfeng.orgs.models import Unit, UnitKind
    from hongfeng.orgs.services import GroupSpec, SquadSpec, onboard_team

    county = cast.units["county"]
    team = Unit.objects.filter(parent=county, kind=UnitKind.TEAM, name=SIGNUP_TEAM).first()
    if team is None:
        team = onboard_team(
            actor=cast.users["county_admin"],
            county=county,
            name=SIGNUP_TEAM,
            guiding_station=cast.units["station"],
            squads=[
                SquadSpec(SIGNUP_SQUAD, [GroupSpec(GROUP)]),
                SquadSpec(IMPORT_SQUAD, [GroupSpec(GROUP)]),
            ],
        )
    group = Unit.objects.get(parent__parent=team, parent__name=SIGNUP_SQUAD, name=GROUP)
    return team, group


def bench_cast(scale: str, seed: int) -> BenchCast:
    """Every unit and account the scenarios use, created on first use."""
    cast = BenchCast(scale=scale, seed=seed)
    cast.units = _units(scale, seed)
    cast.security = _security_admin(scale, seed)
    for number, spec in enumerate(role_specs(), start=FIRST_HOLDER):
        cast.users[spec.key] = _holder(cast, spec, number)
    cast.units["signup_team"], cast.units["signup_group"] = _signup_team(cast)
    return cast


# ---- the sign-up members -------------------------------------------------------------------


def ensure_signup_members(cast: BenchCast, target: int) -> list[int]:
    """Top the sign-up group up to `target` members through the roster bulk-import path, and
    make every one eligible for activities in the coming year. Returns their user ids."""
    from django.utils import timezone

    from hongfeng.members import importing
    from hongfeng.members.models import InsurancePolicy, Member, RosterImport
    from hongfeng.members.roster import RosterRow

    group, team = cast.units["signup_group"], cast.units["signup_team"]
    actor = cast.users["county_admin"]
    members = Member.objects.filter(unit=group)
    have = members.count()
    n = FIRST_SIGNUP + have
    while have < target:
        batch = min(5000, target - have)
        rows = []
        for _ in range(batch):
            n += 1
            rows.append(
                RosterRow(
                    number=n,
                    name=person_name(n),
                    id_number=bench_id_number(cast.scale, cast.seed, n),
                    mobile=bench_mobile(cast.scale, cast.seed, n),
                    unit=group,
                    unit_label=group.name,
                )
            )
        marker = RosterImport.objects.create(
            team=team, filename="bench-signup", content=b"", created_by=actor, total_rows=batch
        )
        importing.import_rows(actor=actor, roster_import=marker, rows=rows)
        have += batch
        print(f"  … {have:,} sign-up members", flush=True)
    today = timezone.localdate()
    members.filter(pre_job_training_on__isnull=True).update(
        pre_job_training_on=today - timedelta(days=30)
    )
    members.exclude(health_fit=True).update(health_fit=True)
    until = today + timedelta(days=30)
    uninsured = members.exclude(insurances__starts_on__lte=today, insurances__ends_on__gte=until)
    InsurancePolicy.objects.bulk_create(
        [
            InsurancePolicy(
                member_id=pk,
                insurer="压测保险",
                policy_number=f"BENCH-{pk}",
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=365),
            )
            for pk in uninsured.values_list("pk", flat=True)
        ],
        batch_size=2000,
    )
    return list(members.order_by("pk").values_list("user_id", flat=True)[:target])


# ---- credentials for the server ------------------------------------------------------------


def session_for(user) -> str:
    """A logged-in browser session for the user (what the login page leaves behind), as its
    cookie value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def token_for(user) -> str:
    """A fresh API bearer token for the user, through the service."""
    from hongfeng.accounts.services import issue_api_token

    return issue_api_token(user=user, label="bench").token
