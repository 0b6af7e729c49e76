"""Organisation tower endpoints (5.1). Every read goes through the access helper; every write
calls the same service as the pages."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts.access import get_unit_for_user
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import DomainError
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter
from hongfeng.orgs import selectors, services
from hongfeng.orgs.models import SpecialTag, Unit, UnitKind

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
units_router = Router()
stations_router = Router()
teams_router = Router()
TAGS = ("组织架构",)
API_ROUTERS = [
    ApiRouter("/units", units_router, TAGS),
    ApiRouter("/stations", stations_router, TAGS),
    ApiRouter("/teams", teams_router, TAGS),
]


class UnitRef(Schema):
    id: int
    name: str
    kind: str


class UnitOut(Schema):
    id: int
    name: str
    kind: UnitKind
    kind_label: str = Field(..., description="类型的中文名（特色小组显示其标签）")
    parent: UnitRef | None
    depth: int
    team_id: int | None = Field(None, description="分队、小组所属的总队")
    guiding_station: UnitRef | None = Field(None, description="总队的指导派出所（5.1.1）")
    special_tag: SpecialTag | None
    region_code: str
    archived: bool
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_kind_label(obj: Unit) -> str:
        return obj.kind_display

    @staticmethod
    def resolve_special_tag(obj: Unit) -> str | None:
        return obj.special_tag or None

    @staticmethod
    def resolve_archived(obj: Unit) -> bool:
        return obj.is_archived


class UnitListItem(UnitOut):
    children_count: int


class UnitCreateIn(Schema):
    parent_id: Id | None = Field(
        None, description="上级单位；为空表示顶级单位（仅全平台系统管理员）"
    )
    kind: UnitKind
    name: Text = Field(..., max_length=200)
    guiding_station_id: Id | None = Field(None, description="新建总队时必填")
    special_tag: SpecialTag | None = None
    region_code: Text = Field("", max_length=20)


class UnitPatchIn(Schema):
    version: int = Field(..., ge=1, description="当前版本号（乐观锁），不一致返回 409")
    name: Text | None = Field(None, max_length=200)
    guiding_station_id: Id | None = None


class VersionIn(Schema):
    version: int = Field(..., ge=1)


class UnitMoveIn(VersionIn):
    parent_id: Id


class ArchiveOut(Schema):
    unit: UnitOut
    affected_units: int


class GroupIn(Schema):
    name: Text = Field(..., max_length=200)
    special_tag: SpecialTag | None = None


class SquadIn(Schema):
    name: Text = Field(..., max_length=200)
    groups: list[GroupIn] = Field(default_factory=list, max_length=50)


class OnboardIn(Schema):
    county_id: Id
    name: Text = Field(..., max_length=200)
    guiding_station_id: Id
    squads: list[SquadIn] = Field(default_factory=list, max_length=50)
    special_groups: list[GroupIn] = Field(default_factory=list, max_length=20)


class OnboardOut(Schema):
    team: UnitOut
    units_created: int


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _station(user, station_id: int | None) -> Unit | None:
    if station_id is None:
        return None
    station = selectors.station_choices(user).filter(pk=station_id).first()
    if station is None:
        raise DomainError(
            "指导派出所不存在或已归档。", code="invalid_station", field="guiding_station_id"
        )
    return station


@units_router.get("", response=list[UnitListItem])
@paginate(Pagination)
def list_units(
    request,
    kind: UnitKind | None = None,
    parent_id: Id | None = None,
    q: Text | None = Query(None, max_length=50),
    include_archived: bool = False,
):
    """Units the caller can see, optionally filtered by kind, parent or a name fragment."""
    units = selectors.with_children_count(
        Unit.objects.visible_to(request.user).select_related("parent", "guiding_station"),
        request.user,
    ).order_by("path")
    if not include_archived:
        units = units.active()
    if kind:
        units = units.filter(kind=kind)
    if parent_id is not None:
        units = units.filter(parent_id=parent_id)
    if q:
        units = units.filter(name__icontains=q.strip())
    return units


@units_router.post("", response={201: UnitOut, **ERRORS})
def create_unit(request, payload: UnitCreateIn):
    """Create a unit under a parent in the caller's scope."""
    parent = get_unit_for_user(request.user, payload.parent_id) if payload.parent_id else None
    unit = services.create_unit(
        actor=request.user,
        parent=parent,
        kind=payload.kind,
        name=payload.name,
        guiding_station=_station(request.user, payload.guiding_station_id),
        special_tag=payload.special_tag or "",
        region_code=payload.region_code,
    )
    return Status(201, get_unit_for_user(request.user, unit.pk))


@units_router.get("/{unit_id}", response={200: UnitOut, **ERRORS})
def get_unit(request, unit_id: Id):
    return get_unit_for_user(request.user, unit_id)


@units_router.patch("/{unit_id}", response={200: UnitOut, **ERRORS})
def update_unit(request, unit_id: Id, payload: UnitPatchIn):
    """Rename a unit and/or change a team's guiding station, with optimistic locking."""
    unit = get_unit_for_user(request.user, unit_id)
    services.update_unit(
        actor=request.user,
        unit=unit,
        name=payload.name,
        guiding_station=_station(request.user, payload.guiding_station_id),
        expected_version=payload.version,
    )
    return get_unit_for_user(request.user, unit.pk)


@units_router.post("/{unit_id}/move", response={200: UnitOut, **ERRORS})
def move_unit(request, unit_id: Id, payload: UnitMoveIn):
    """Re-parent a unit with its whole subtree."""
    unit = get_unit_for_user(request.user, unit_id)
    new_parent = get_unit_for_user(request.user, payload.parent_id)
    services.move_unit(
        actor=request.user, unit=unit, new_parent=new_parent, expected_version=payload.version
    )
    return get_unit_for_user(request.user, unit.pk)


@units_router.post("/{unit_id}/archive", response={200: ArchiveOut, **ERRORS})
def archive_unit(request, unit_id: Id, payload: VersionIn):
    """Archive a unit and its subtree (nothing is deleted)."""
    unit = get_unit_for_user(request.user, unit_id)
    count = services.archive_unit(actor=request.user, unit=unit, expected_version=payload.version)
    return {"unit": get_unit_for_user(request.user, unit.pk), "affected_units": count}


@units_router.post("/{unit_id}/restore", response={200: ArchiveOut, **ERRORS})
def restore_unit(request, unit_id: Id, payload: VersionIn):
    unit = get_unit_for_user(request.user, unit_id)
    count = services.restore_unit(actor=request.user, unit=unit, expected_version=payload.version)
    return {"unit": get_unit_for_user(request.user, unit.pk), "affected_units": count}


@units_router.get("/{unit_id}/guided-teams", response={200: list[UnitOut], **ERRORS})
@paginate(Pagination)
def guided_teams(request, unit_id: Id):
    """Teams guided by this station, or by the stations under this bureau (5.1.1)."""
    unit = get_unit_for_user(request.user, unit_id)
    return selectors.guided_teams(request.user, unit).select_related("parent", "guiding_station")


@stations_router.get("", response=list[UnitOut])
@paginate(Pagination)
def list_stations(request, q: Text | None = Query(None, max_length=50)):
    """Active police stations a team may be assigned to (for callers who create or manage
    teams)."""
    stations = selectors.station_choices(request.user).select_related("parent", "guiding_station")
    if q:
        stations = stations.filter(name__icontains=q.strip())
    return stations


@teams_router.post("/onboard", response={201: OnboardOut, **ERRORS})
def onboard_team(request, payload: OnboardIn):
    """队伍一键入驻 (4.5): a team with its squads and groups in one step."""
    county = get_unit_for_user(request.user, payload.county_id)
    station = _station(request.user, payload.guiding_station_id)
    team = services.onboard_team(
        actor=request.user,
        county=county,
        name=payload.name,
        guiding_station=station,
        squads=[
            services.SquadSpec(
                name=s.name,
                groups=[services.GroupSpec(g.name, g.special_tag or "") for g in s.groups],
            )
            for s in payload.squads
        ],
        special_groups=[
            services.GroupSpec(g.name, g.special_tag or "") for g in payload.special_groups
        ],
    )
    created = Unit.objects.subtree_of(team).count()
    return Status(201, {"team": get_unit_for_user(request.user, team.pk), "units_created": created})
