"""The seed's tower (registered as the seed step "orgs.tower"): a province association and a
province bureau under a root of their own ("压测省义警协会（<scale>·种子<seed>）"), its cities and
counties on both lines, three stations per county bureau, the teams (each guided by a station of
its county) with their squads and groups. Leaves `seeding.teams` [(team, [squads…],
[groups…])…] and the units the officials step needs."""

import uuid
from functools import partial

from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat

from hongfeng.core.seed import (
    GROUPS_PER_SQUAD,
    SQUADS_PER_TEAM,
    STATIONS_PER_COUNTY,
    SeedUnit,
    place_names,
    root_name,
    split_evenly,
)
from hongfeng.orgs.models import Unit, UnitKind

_COLUMNS = ("name", "kind", "parent_id", "path", "depth", "team_id", "guiding_station_id")


def exists(scale: str, seed: int) -> bool:
    """Whether this scale and seed's root is in the database."""
    return Unit.objects.filter(parent__isnull=True, name=root_name(scale, seed)).exists()


def _units(seeding, rows: list[tuple[str, str, SeedUnit | None, int | None, int | None]]):
    """Insert units given as (name, kind, parent, team id, guiding station id) and give
    them the path and depth `create_unit` would: the parent's path plus "<own id>/", one
    level below the parent (a root: "/<id>/", depth 0). The path needs the new id, so rows
    go in with a placeholder and one UPDATE sets every path from the parent's."""
    marker = f"tmp:{uuid.uuid4().hex}:"
    ids = seeding.writer.insert(
        seeding.table(Unit, _COLUMNS),
        [
            (name, kind, parent.id if parent else None, f"{marker}{i}",
             parent.depth + 1 if parent else 0, team_id, station_id)
            for i, (name, kind, parent, team_id, station_id) in enumerate(rows)
        ],
        ids=True,
    )  # fmt: skip
    seeding.writer.call(partial(_set_paths, marker))
    return [
        SeedUnit(
            id=pk,
            name=name,
            kind=kind,
            path=f"{parent.path if parent else '/'}{pk}/",
            depth=parent.depth + 1 if parent else 0,
            team_id=team_id if kind != UnitKind.TEAM else pk,
        )
        for pk, (name, kind, parent, team_id, _s) in zip(ids, rows, strict=True)
    ]


def _set_paths(marker: str) -> None:
    """One UPDATE: every unit whose path starts with `marker` gets its parent's path plus its
    own id (a root: "/<id>/"). Runs where the units were written, in the same transaction."""
    parent_path = Unit.objects.filter(pk=OuterRef("parent_id")).values("path")[:1]
    Unit.objects.filter(path__startswith=marker).update(
        path=Concat(
            Coalesce(Subquery(parent_path), Value("/")),
            Cast("pk", CharField()),
            Value("/"),
            output_field=CharField(),
        )
    )


def build_tower(seeding) -> None:
    """Associations and police line down to the teams with their squads and groups."""
    s, rng = seeding.scale, seeding.rng
    tag = f"{seeding.scale_name}·种子{seeding.seed}"
    seeding.root, seeding.bureau = _units(
        seeding,
        [
            (root_name(seeding.scale_name, seeding.seed), UnitKind.PROVINCE_ASSOCIATION, None,
             None, None),
            (f"压测省公安厅（{tag}）", UnitKind.PROVINCE_BUREAU, None, None, None),
        ],
    )  # fmt: skip
    city_names = place_names(rng, s.cities, "市")
    cities = _units(
        seeding,
        [(f"{n}义警协会", UnitKind.CITY_ASSOCIATION, seeding.root, None, None) for n in city_names]
        + [(f"{n}公安局", UnitKind.CITY_BUREAU, seeding.bureau, None, None) for n in city_names],
    )
    city_assocs, city_bureaus = cities[: s.cities], cities[s.cities :]
    county_a, county_b = [], []
    for i, per_city in enumerate(split_evenly(s.counties, s.cities)):
        for name in place_names(rng, per_city, "县"):
            county_a.append(
                (f"{name}义警协会", UnitKind.COUNTY_ASSOCIATION, city_assocs[i], None, None)
            )
            county_b.append((f"{name}公安局", UnitKind.COUNTY_BUREAU, city_bureaus[i], None, None))
    counties = _units(seeding, county_a + county_b)
    county_assocs, county_bureaus = counties[: s.counties], counties[s.counties :]
    stations = _units(
        seeding,
        [
            (f"{name}派出所", UnitKind.STATION, cb, None, None)
            for cb in county_bureaus
            for name in place_names(rng, STATIONS_PER_COUNTY, "")
        ],
    )
    team_rows = []
    for i, per_county in enumerate(split_evenly(s.teams, s.counties)):
        own = stations[i * STATIONS_PER_COUNTY : (i + 1) * STATIONS_PER_COUNTY]
        for j, name in enumerate(place_names(rng, per_county, "")):
            station = rng.choice(own)
            team_rows.append(
                (f"{name}义警总队{j + 1}", UnitKind.TEAM, county_assocs[i], None, station.id)
            )
    teams = _units(seeding, team_rows)
    squads = _units(
        seeding,
        [
            (f"第{k + 1}分队", UnitKind.SQUAD, team, team.id, None)
            for team in teams
            for k in range(SQUADS_PER_TEAM)
        ],
    )
    groups = _units(
        seeding,
        [
            (f"第{k + 1}小组", UnitKind.GROUP, squad, squad.team_id, None)
            for squad in squads
            for k in range(GROUPS_PER_SQUAD)
        ],
    )
    # for the officials (accounts.seed)
    seeding.associations = city_assocs + county_assocs
    seeding.county_bureaus, seeding.stations = county_bureaus, stations
    g, q = GROUPS_PER_SQUAD, SQUADS_PER_TEAM
    seeding.teams = [
        (team, squads[i * q : (i + 1) * q], groups[i * q * g : (i + 1) * q * g])
        for i, team in enumerate(teams)
    ]
