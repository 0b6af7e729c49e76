"""The demo tower (5.1), built through orgs' own services by the system admin of the demo
(registered as the demo step "orgs.tower", after the platform accounts):

  浙江省义警协会 → 绍兴市义警协会 → 诸暨市义警协会 → 红枫义警总队 (guided by 枫桥派出所)
                                                   → 暨阳义警总队 (guided by 暨阳派出所)
                                 → 柯桥区义警协会 → 柯桥义警总队 (guided by 柯岩派出所)
                 → 杭州市义警协会 → 西湖区义警协会 → 西湖义警总队 (guided by 北山派出所)
  浙江省公安厅 → 绍兴市公安局 → 诸暨市公安局 → 枫桥派出所, 暨阳派出所
                              → 绍兴市公安局柯桥区分局 → 柯岩派出所
               → 杭州市公安局 → 杭州市公安局西湖区分局 → 北山派出所

`cast.units` names every unit by key: the associations and police units below, each team by its
key, and its squads and groups as <team>_squad1, <team>_group1, … (<team>_special for its
special group)."""

from hongfeng.orgs.models import SpecialTag, Unit, UnitKind
from hongfeng.orgs.services import GroupSpec, SquadSpec, create_unit, onboard_team

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


def _index_team(cast, key: str, team: Unit) -> None:
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


def build(cast) -> None:
    """The tower, created by the demo's system admin (cast.users["system_admin"])."""
    sysadmin = cast.users["system_admin"]
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


def load(cast) -> None:
    """The tower's units from a database that `build` filled (looked up by the fixed names)."""
    roots = {u.name: u for u in Unit.objects.filter(parent__isnull=True)}
    for key, parent_key, _kind, name, _region in _ASSOCIATIONS + _POLICE:
        parent = cast.units[parent_key] if parent_key else None
        cast.units[key] = roots[name] if parent is None else _unit(name, parent)
    for key, county_key, _station, name, _squads, _special in _TEAMS:
        _index_team(cast, key, _unit(name, cast.units[county_key]))


def exists() -> bool:
    return Unit.objects.exists()
