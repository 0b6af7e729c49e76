"""Demo data: a realistic tower and one account per role, built through the real services so
that the audit trail, the paths and the constraints are exactly what production would hold.

The same cast serves the test suite (tests/conftest.py), so what a newcomer clicks through in
`hongfeng demo` is what the access tests prove.

Tower (5.1):
  浙江省义警协会 → 绍兴市义警协会 → 诸暨市义警协会 → 红枫义警总队 (guided by 枫桥派出所)
                                                   → 暨阳义警总队 (guided by 暨阳派出所)
                                 → 柯桥区义警协会 → 柯桥义警总队 (guided by 柯岩派出所)
                 → 杭州市义警协会 → 西湖区义警协会 → 西湖义警总队 (guided by 北山派出所)
  浙江省公安厅 → 绍兴市公安局 → 诸暨市公安局 → 枫桥派出所, 暨阳派出所
                              → 绍兴市公安局柯桥区分局 → 柯岩派出所
               → 杭州市公安局 → 杭州市公安局西湖区分局 → 北山派出所
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from hongfeng.accounts.models import Role, User
from hongfeng.accounts.services import bootstrap_three_powers_account, grant_role
from hongfeng.orgs.models import SpecialTag, Unit, UnitKind
from hongfeng.orgs.services import GroupSpec, SquadSpec, create_unit, onboard_team

# Meets the 等保 composition profile; printed by `hongfeng demo` and listed in the README.
DEMO_PASSWORD = "Hongfeng@2026"  # noqa: S105 — demo accounts only, never in production


@dataclass(frozen=True)
class DemoAccount:
    key: str
    name: str
    mobile: str
    role: str
    unit_key: str | None  # None = platform-wide
    note: str


# One account per role, plus people in a sibling county and another city so scoping shows.
ACCOUNTS: list[DemoAccount] = [
    DemoAccount(
        "system_admin",
        "王志远",
        "13900000001",
        Role.SYSTEM_ADMIN,
        None,
        "账号与组织架构配置，不接触业务个人数据",
    ),
    DemoAccount(
        "security_admin", "李安平", "13900000002", Role.SECURITY_ADMIN, None, "授权与解除锁定"
    ),
    DemoAccount("auditor", "赵明察", "13900000003", Role.AUDITOR, None, "只读审计记录"),
    DemoAccount(
        "province_admin", "陈浙华", "13900000010", Role.ASSOCIATION_ADMIN, "province", "全省协会"
    ),
    DemoAccount(
        "city_admin", "周越人", "13900000011", Role.ASSOCIATION_ADMIN, "shaoxing", "绍兴市协会"
    ),
    DemoAccount(
        "county_admin", "吴暨阳", "13900000012", Role.ASSOCIATION_ADMIN, "zhuji", "诸暨市协会"
    ),
    DemoAccount(
        "bureau_officer",
        "郑公正",
        "13900000020",
        Role.BUREAU_OFFICER,
        "zhuji_bureau",
        "诸暨市公安局：所辖派出所及其指导的总队",
    ),
    DemoAccount(
        "station_officer",
        "冯枫桥",
        "13900000021",
        Role.STATION_OFFICER,
        "fengqiao",
        "枫桥派出所：其指导的总队（属地管理）",
    ),
    DemoAccount("captain", "楼红枫", "13900000030", Role.CAPTAIN, "hongfeng", "红枫义警总队"),
    DemoAccount(
        "squad_leader", "何一队", "13900000031", Role.SQUAD_LEADER, "hongfeng_squad1", "第一分队"
    ),
    DemoAccount(
        "group_leader", "蒋一组", "13900000032", Role.GROUP_LEADER, "hongfeng_group1", "第一小组"
    ),
    DemoAccount(
        "volunteer", "张三", "13900000033", Role.VOLUNTEER, "hongfeng_group1", "第一小组队员"
    ),
    DemoAccount(
        "outsider",
        "钱西湖",
        "13900000040",
        Role.ASSOCIATION_ADMIN,
        "xihu",
        "另一城市的县级协会（看不到诸暨）",
    ),
    DemoAccount(
        "outside_captain", "孙湖滨", "13900000041", Role.CAPTAIN, "xihu_team", "另一城市的总队长"
    ),
    DemoAccount(
        "sibling_captain",
        "钱柯岩",
        "13900000042",
        Role.CAPTAIN,
        "keqiao_team",
        "同市另一县的总队长",
    ),
]


@dataclass
class Cast:
    """The demo tower and accounts by key (see ACCOUNTS and `build`)."""

    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


# (key, parent key, kind, name, region code)
_ASSOCIATIONS = [
    ("province", None, UnitKind.PROVINCE_ASSOCIATION, "浙江省义警协会", "330000"),
    ("shaoxing", "province", UnitKind.CITY_ASSOCIATION, "绍兴市义警协会", "330600"),
    ("zhuji", "shaoxing", UnitKind.COUNTY_ASSOCIATION, "诸暨市义警协会", "330681"),
    ("keqiao", "shaoxing", UnitKind.COUNTY_ASSOCIATION, "柯桥区义警协会", "330603"),
    ("hangzhou", "province", UnitKind.CITY_ASSOCIATION, "杭州市义警协会", "330100"),
    ("xihu", "hangzhou", UnitKind.COUNTY_ASSOCIATION, "西湖区义警协会", "330106"),
]
_POLICE = [
    ("province_bureau", None, UnitKind.PROVINCE_BUREAU, "浙江省公安厅", "330000"),
    ("shaoxing_bureau", "province_bureau", UnitKind.CITY_BUREAU, "绍兴市公安局", "330600"),
    ("zhuji_bureau", "shaoxing_bureau", UnitKind.COUNTY_BUREAU, "诸暨市公安局", "330681"),
    (
        "keqiao_bureau",
        "shaoxing_bureau",
        UnitKind.COUNTY_BUREAU,
        "绍兴市公安局柯桥区分局",
        "330603",
    ),
    ("hangzhou_bureau", "province_bureau", UnitKind.CITY_BUREAU, "杭州市公安局", "330100"),
    ("xihu_bureau", "hangzhou_bureau", UnitKind.COUNTY_BUREAU, "杭州市公安局西湖区分局", "330106"),
    ("fengqiao", "zhuji_bureau", UnitKind.STATION, "枫桥派出所", ""),
    ("jiyang_station", "zhuji_bureau", UnitKind.STATION, "暨阳派出所", ""),
    ("keyan", "keqiao_bureau", UnitKind.STATION, "柯岩派出所", ""),
    ("beishan", "xihu_bureau", UnitKind.STATION, "北山派出所", ""),
]


def _squads(*spec: tuple[str, list[str]]) -> list[SquadSpec]:
    return [SquadSpec(name, [GroupSpec(g) for g in groups]) for name, groups in spec]


# (key, county key, station key, name, squads, special groups)
_TEAMS = [
    (
        "hongfeng",
        "zhuji",
        "fengqiao",
        "红枫义警总队",
        _squads(("第一分队", ["第一小组", "第二小组"]), ("第二分队", ["第三小组", "第四小组"])),
        [GroupSpec("红枫党员先锋岗", SpecialTag.PARTY_VANGUARD)],
    ),
    (
        "jiyang_team",
        "zhuji",
        "jiyang_station",
        "暨阳义警总队",
        _squads(("第一分队", ["第一小组"])),
        [],
    ),
    ("keqiao_team", "keqiao", "keyan", "柯桥义警总队", _squads(("第一分队", ["第一小组"])), []),
    (
        "xihu_team",
        "xihu",
        "beishan",
        "西湖义警总队",
        _squads(("第一分队", ["第一小组", "第二小组"])),
        [],
    ),
]


def _unit(name: str, parent: Unit | None) -> Unit:
    return Unit.objects.get(name=name, parent=parent, archived_at__isnull=True)


def _index_team(cast: Cast, key: str, team: Unit) -> None:
    """Keys for a team's squads and groups: <team>_squad1, <team>_group1, … in creation order."""
    cast.units[key] = team
    squads = list(Unit.objects.filter(parent=team, kind=UnitKind.SQUAD).order_by("id"))
    groups = list(
        Unit.objects.filter(team=team, kind=UnitKind.GROUP, special_tag="").order_by("id")
    )
    for i, squad in enumerate(squads, start=1):
        cast.units[f"{key}_squad{i}"] = squad
    for i, group in enumerate(groups, start=1):
        cast.units[f"{key}_group{i}"] = group
    special = Unit.objects.filter(team=team).exclude(special_tag="").first()
    if special is not None:
        cast.units[f"{key}_special"] = special


@transaction.atomic
def build(password: str = DEMO_PASSWORD) -> Cast:
    """Create the demo tower and accounts in an empty database."""
    if settings.IS_PRODUCTION:
        raise RuntimeError("demo data is never created with production settings")
    cast = Cast()
    platform = {
        a.key: bootstrap_three_powers_account(
            mobile=a.mobile, name=a.name, password=password, role=a.role
        )
        for a in ACCOUNTS
        if a.unit_key is None
    }
    sysadmin, security = platform["system_admin"], platform["security_admin"]
    for key, parent_key, kind, name, region in _ASSOCIATIONS + _POLICE:
        parent = cast.units[parent_key] if parent_key else None
        cast.units[key] = create_unit(
            actor=sysadmin, parent=parent, kind=kind, name=name, region_code=region
        )
    for key, county_key, station_key, name, squads, special in _TEAMS:
        team = onboard_team(
            actor=sysadmin,
            county=cast.units[county_key],
            name=name,
            guiding_station=cast.units[station_key],
            squads=squads,
            special_groups=special,
        )
        _index_team(cast, key, team)
    for account in ACCOUNTS:
        if account.unit_key is None:
            continue
        # Demo accounts are opened with their known password (README), so no activation code
        # goes out for them; a real account is opened by `grant_role_by_mobile`.
        user = User.objects.filter(mobile=account.mobile).first()
        if user is None:
            user = User.objects.create_user(
                mobile=account.mobile, name=account.name, password=password
            )
        grant_role(actor=security, user=user, role=account.role, unit=cast.units[account.unit_key])
    cast = load()
    from hongfeng.members import demo as member_demo

    member_demo.build(cast)
    member_demo.build_recruitment(cast)
    member_demo.build_roster_import(cast)
    from hongfeng.activities import demo as activity_demo

    activity_demo.build(cast)
    from hongfeng.honours import demo as honours_demo

    honours_demo.build(cast)
    from hongfeng.points import demo as points_demo

    points_demo.build(cast)
    from hongfeng.redemption import demo as redemption_demo

    redemption_demo.build(cast)
    return cast


def load() -> Cast:
    """The cast from a database that `build` filled (looked up by the fixed names)."""
    cast = Cast()
    roots = {u.name: u for u in Unit.objects.filter(parent__isnull=True)}
    for key, parent_key, _kind, name, _region in _ASSOCIATIONS + _POLICE:
        parent = cast.units[parent_key] if parent_key else None
        cast.units[key] = roots[name] if parent is None else _unit(name, parent)
    for key, county_key, _station, name, _squads, _special in _TEAMS:
        _index_team(cast, key, _unit(name, cast.units[county_key]))
    users = {u.mobile: u for u in User.objects.filter(mobile__in=[a.mobile for a in ACCOUNTS])}
    for account in ACCOUNTS:
        cast.users[account.key] = users[account.mobile]
    return cast


def is_empty() -> bool:
    return not Unit.objects.exists() and not User.objects.exists()
