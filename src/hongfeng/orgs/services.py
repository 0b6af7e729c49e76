"""Changing the organisation tower (5.1): create, rename, move, archive, restore, re-guide, and
onboard a whole team in one step (4.5 队伍一键入驻, part one).

Callers fetch units through `hongfeng.accounts.access.get_unit_for_user` (404 outside scope);
these functions check that the actor may take the action (403 otherwise), validate, write, and
record the audit event in the same transaction.
"""

import re
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import Conflict, DomainError, Forbidden, check_version
from hongfeng.core.workbooks import looks_like_formula
from hongfeng.orgs.models import SpecialTag, Unit, UnitKind

NAME_MAX = 100
_REGION_RE = re.compile(r"^\d{6}$")


def clean_name(raw: str | None, *, field_name: str = "name") -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("请填写单位名称。", code="name_required", field=field_name)
    if len(name) > NAME_MAX:
        raise DomainError(
            f"单位名称不能超过{NAME_MAX}个字。", code="name_too_long", field=field_name
        )
    if looks_like_formula(name):  # it would be a live formula in every workbook (2.1)
        raise DomainError("单位名称不能以 =、+、-、@ 开头。", code="invalid_name", field=field_name)
    return name


def _check_sibling_name(parent: Unit | None, name: str, *, exclude: Unit | None = None) -> None:
    siblings = Unit.objects.active().filter(parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if parent is not None and siblings.exists():
        raise Conflict(
            f"「{parent.name}」下已有名为「{name}」的单位。", code="duplicate_name", field="name"
        )


def _check_station(station: Unit | None) -> Unit:
    if station is None:
        raise DomainError(
            "总队必须指定一个指导派出所（5.1.1）。",
            code="station_required",
            field="guiding_station",
        )
    if station.kind != UnitKind.STATION or station.is_archived:
        raise DomainError(
            "指导单位必须是一个在用的派出所。", code="invalid_station", field="guiding_station"
        )
    return station


def _check_special_tag(kind: str, tag: str) -> str:
    if not tag:
        return ""
    if tag not in SpecialTag.values:
        raise DomainError("未知的特色小组类型。", code="invalid_special_tag", field="special_tag")
    if kind != UnitKind.GROUP:
        raise DomainError(
            "只有小组可以标记为特色小组。", code="invalid_special_tag", field="special_tag"
        )
    return tag


def _check_region(kind: str, region_code: str) -> str:
    region_code = (region_code or "").strip()
    if not region_code:
        return ""
    if not _REGION_RE.match(region_code):
        raise DomainError(
            "行政区划代码应为6位数字。", code="invalid_region_code", field="region_code"
        )
    if kind in (UnitKind.TEAM, UnitKind.SQUAD, UnitKind.GROUP):
        raise DomainError(
            "总队、分队、小组不填写行政区划代码。", code="invalid_region_code", field="region_code"
        )
    return region_code


def _team_for(parent: Unit | None, kind: str) -> Unit | None:
    """The team a new squad or group belongs to (None for every other kind)."""
    if kind not in (UnitKind.SQUAD, UnitKind.GROUP) or parent is None:
        return None
    return parent if parent.kind == UnitKind.TEAM else parent.team


def _locked(unit: Unit) -> Unit:
    """The unit as it is now, row-locked for the rest of the transaction. Callers pass objects
    they read before the transaction began; another request may have moved or archived the unit
    since, and a path computed from a stale copy would file the new unit in the wrong place."""
    return Unit.objects.select_for_update().get(pk=unit.pk)


def _lock_subtree(unit: Unit) -> None:
    """Lock every unit below `unit` (in path order, so that two movers never deadlock): a
    unit being created under one of them waits for the move, then sees the new path."""
    list(
        Unit.objects.select_for_update()
        .filter(path__startswith=unit.path)
        .order_by("path")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def create_unit(
    *,
    actor,
    parent: Unit | None,
    kind: str,
    name: str,
    guiding_station: Unit | None = None,
    special_tag: str = "",
    region_code: str = "",
) -> Unit:
    """Create one unit under `parent` (None: a root, which only a platform-wide 系统管理员 may
    create). Kind rules of 5.1.2/5.1.3 apply; a team needs its guiding station (5.1.1)."""
    if kind not in UnitKind.values:
        raise DomainError("未知的单位类型。", code="invalid_kind", field="kind")
    name = clean_name(name)
    if parent is None:
        if not access.has_global(actor, "orgs.add_child"):
            raise Forbidden("只有全平台系统管理员可以新建顶级单位。")
    else:
        parent = _locked(parent)
        access.require(actor, "orgs.add_child", parent, "您无权在该单位下新建单位。")
        if parent.is_archived:
            raise DomainError(
                "上级单位已归档，不能在其下新建单位。", code="parent_archived", field="parent"
            )
    unit = Unit(
        kind=kind,
        name=name,
        parent=parent,
        special_tag=_check_special_tag(kind, special_tag),
        region_code=_check_region(kind, region_code),
    )
    unit.check_parent_kind(parent)
    if kind == UnitKind.TEAM:
        unit.guiding_station = _check_station(guiding_station)
    elif guiding_station is not None:
        raise DomainError(
            "只有总队设置指导派出所。", code="invalid_station", field="guiding_station"
        )
    _check_sibling_name(parent, name)
    unit.team = _team_for(parent, kind)
    unit.depth = parent.depth + 1 if parent else 0
    unit.path = f"tmp:{uuid.uuid4().hex}"
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError:
        raise Conflict(
            "同一上级单位下已有同名单位。", code="duplicate_name", field="name"
        ) from None
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    access.units_changed()  # UPDATE sends no signal: a reach kept for the request is stale
    record_event(
        action="unit.created",
        actor=actor,
        target=unit,
        unit=unit,
        summary={
            "kind": kind,
            "parent": parent.pk if parent else None,
            "guiding_station": unit.guiding_station_id,
            "special_tag": unit.special_tag,
        },
    )
    return unit


def _bump(unit: Unit, **changes) -> None:
    """Write `changes` and the next version with a conditional UPDATE, so two concurrent edits of
    the same version cannot both win."""
    try:
        with transaction.atomic():
            updated = Unit.objects.filter(pk=unit.pk, version=unit.version).update(
                version=F("version") + 1, updated_at=timezone.now(), **changes
            )
    except IntegrityError:  # a concurrent rename or move took the same sibling name
        raise Conflict(
            "同一上级单位下已有同名单位。", code="duplicate_name", field="name"
        ) from None
    if not updated:
        raise Conflict("该单位已被他人修改，请刷新后重试。", code="stale_version", field="version")
    access.units_changed()
    unit.refresh_from_db()


@transaction.atomic
def rename_unit(*, actor, unit: Unit, name: str, expected_version: int | None = None) -> Unit:
    """Give a unit a new name (unique among its active siblings)."""
    unit = _locked(unit)
    access.require(actor, "orgs.manage", unit, "您无权修改该单位。")
    check_version(unit, expected_version)
    name = clean_name(name)
    if name == unit.name:
        return unit
    _check_sibling_name(unit.parent, name, exclude=unit)
    before = unit.name
    _bump(unit, name=name)
    record_event(
        action="unit.renamed",
        actor=actor,
        target=unit,
        unit=unit,
        summary={"before": before, "after": name},
    )
    return unit


@transaction.atomic
def move_unit(*, actor, unit: Unit, new_parent: Unit, expected_version: int | None = None) -> Unit:
    """Re-parent a unit with its whole subtree: one UPDATE rewrites every path below it."""
    unit, new_parent = _locked(unit), _locked(new_parent)
    access.require(actor, "orgs.manage", unit, "您无权调整该单位。")
    access.require(actor, "orgs.add_child", new_parent, "您无权把单位调整到目标上级之下。")
    check_version(unit, expected_version)
    if unit.is_archived or new_parent.is_archived:
        raise DomainError("已归档的单位不能调整。", code="archived", field="parent")
    if new_parent.pk == unit.pk or new_parent.is_descendant_of(unit):
        raise DomainError(
            "不能把单位移到它自己或它的下级单位之下。", code="move_into_subtree", field="parent"
        )
    if new_parent.pk == unit.parent_id:
        return unit
    unit.check_parent_kind(new_parent)
    _check_sibling_name(new_parent, unit.name, exclude=unit)
    _lock_subtree(unit)
    old_prefix, old_parent = unit.path, unit.parent
    new_prefix = f"{new_parent.path}{unit.pk}/"
    delta = new_parent.depth + 1 - unit.depth
    _bump(unit, parent=new_parent)
    Unit.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)),
        depth=F("depth") + delta,
    )
    new_team = _team_for(new_parent, unit.kind)
    if new_team is not None and new_team.pk != unit.team_id:
        Unit.objects.filter(
            path__startswith=new_prefix, kind__in=[UnitKind.SQUAD, UnitKind.GROUP]
        ).update(team=new_team)
    access.units_changed()
    unit.refresh_from_db()
    record_event(
        action="unit.moved",
        actor=actor,
        target=unit,
        unit=unit,
        summary={
            "from": old_parent.pk if old_parent else None,
            "to": new_parent.pk,
            "from_name": old_parent.name if old_parent else "",
            "to_name": new_parent.name,
        },
    )
    return unit


@transaction.atomic
def archive_unit(*, actor, unit: Unit, expected_version: int | None = None) -> int:
    """Archive a unit and everything below it; nothing is deleted. Refused while a station in
    the subtree still guides active teams elsewhere (they would be left without guidance)."""
    unit = _locked(unit)
    access.require(actor, "orgs.manage", unit, "您无权归档该单位。")
    check_version(unit, expected_version)
    if unit.is_archived:
        raise DomainError("该单位已归档。", code="already_archived")
    _lock_subtree(unit)
    subtree = Unit.objects.subtree_of(unit).active()
    orphaned = (
        Unit.objects.active()
        .filter(kind=UnitKind.TEAM, guiding_station__path__startswith=unit.path)
        .exclude(path__startswith=unit.path)
    )
    if orphaned.exists():
        names = "、".join(orphaned.values_list("name", flat=True)[:5])
        raise DomainError(
            f"该单位（或其下派出所）仍在指导总队：{names}。请先为这些总队更换指导派出所。",
            code="station_in_use",
        )
    now = timezone.now()
    count = subtree.update(archived_at=now, version=F("version") + 1, updated_at=now)
    access.units_changed()
    unit.refresh_from_db()
    record_event(
        action="unit.archived", actor=actor, target=unit, unit=unit, summary={"units": count}
    )
    return count


@transaction.atomic
def restore_unit(*, actor, unit: Unit, expected_version: int | None = None) -> int:
    """Bring back a unit and the units archived together with it."""
    unit = _locked(unit)
    access.require(actor, "orgs.manage", unit, "您无权恢复该单位。")
    check_version(unit, expected_version)
    if not unit.is_archived:
        raise DomainError("该单位未归档。", code="not_archived")
    if unit.parent is not None and unit.parent.is_archived:
        raise DomainError("上级单位已归档，请先恢复上级单位。", code="parent_archived")
    _check_sibling_name(unit.parent, unit.name, exclude=unit)
    if unit.kind == UnitKind.TEAM and unit.guiding_station.is_archived:
        raise DomainError("该总队的指导派出所已归档，请先更换指导派出所。", code="invalid_station")
    now = timezone.now()
    count = (
        Unit.objects.subtree_of(unit)
        .filter(archived_at=unit.archived_at)
        .update(archived_at=None, version=F("version") + 1, updated_at=now)
    )
    access.units_changed()
    unit.refresh_from_db()
    record_event(
        action="unit.restored", actor=actor, target=unit, unit=unit, summary={"units": count}
    )
    return count


@transaction.atomic
def change_guiding_station(
    *, actor, team: Unit, station: Unit, expected_version: int | None = None
) -> Unit:
    """Hand a team over to another police station (5.1.1)."""
    if team.kind != UnitKind.TEAM:
        raise DomainError("只有总队有指导派出所。", code="invalid_kind")
    team = _locked(team)
    access.require(actor, "orgs.manage", team, "您无权更换该总队的指导派出所。")
    check_version(team, expected_version)
    station = _check_station(station)
    if station.pk == team.guiding_station_id:
        return team
    before = team.guiding_station
    _bump(team, guiding_station=station)
    record_event(
        action="unit.station_changed",
        actor=actor,
        target=team,
        unit=team,
        summary={
            "from": before.pk,
            "to": station.pk,
            "from_name": before.name,
            "to_name": station.name,
        },
    )
    return team


@transaction.atomic
def update_unit(
    *,
    actor,
    unit: Unit,
    name: str | None = None,
    guiding_station: Unit | None = None,
    expected_version: int | None = None,
) -> Unit:
    """Rename a unit and/or change a team's guiding station as one change: if either part is
    refused, neither happens."""
    if name is None and guiding_station is None:
        raise DomainError("没有需要修改的内容。", code="nothing_to_change")
    unit = _locked(unit)
    check_version(unit, expected_version)
    if name is not None:
        unit = rename_unit(actor=actor, unit=unit, name=name, expected_version=unit.version)
    if guiding_station is not None:
        unit = change_guiding_station(
            actor=actor, team=unit, station=guiding_station, expected_version=unit.version
        )
    return unit


@dataclass
class GroupSpec:
    name: str
    special_tag: str = ""


@dataclass
class SquadSpec:
    name: str
    groups: list[GroupSpec] = field(default_factory=list)


def _check_unique_names(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DomainError(f"{where}中「{name}」重复。", code="duplicate_name", field="squads")
        seen.add(name)


@transaction.atomic
def onboard_team(
    *,
    actor,
    county: Unit,
    name: str,
    guiding_station: Unit,
    squads: list[SquadSpec],
    special_groups: list[GroupSpec] | None = None,
) -> Unit:
    """队伍一键入驻 (4.5): a team with its squads, groups and special groups in one transaction.
    Every name is checked before anything is written; any error leaves nothing behind."""
    special_groups = special_groups or []
    _check_unique_names([clean_name(s.name, field_name="squads") for s in squads], "分队名称")
    _check_unique_names(
        [clean_name(s.name, field_name="squads") for s in squads]
        + [clean_name(g.name, field_name="special_groups") for g in special_groups],
        "总队下的单位名称",
    )
    for squad in squads:
        _check_unique_names(
            [clean_name(g.name, field_name="squads") for g in squad.groups],
            f"「{squad.name}」的小组名称",
        )
    for group in special_groups:
        if not group.special_tag:
            raise DomainError(
                "直属总队的小组必须是特色小组（如党员先锋岗）。",
                code="invalid_special_tag",
                field="special_groups",
            )
    team = create_unit(
        actor=actor, parent=county, kind=UnitKind.TEAM, name=name, guiding_station=guiding_station
    )
    for squad_spec in squads:
        squad = create_unit(actor=actor, parent=team, kind=UnitKind.SQUAD, name=squad_spec.name)
        for group_spec in squad_spec.groups:
            create_unit(
                actor=actor,
                parent=squad,
                kind=UnitKind.GROUP,
                name=group_spec.name,
                special_tag=group_spec.special_tag,
            )
    for group_spec in special_groups:
        create_unit(
            actor=actor,
            parent=team,
            kind=UnitKind.GROUP,
            name=group_spec.name,
            special_tag=group_spec.special_tag,
        )
    record_event(
        action="team.onboarded",
        actor=actor,
        target=team,
        unit=team,
        summary={
            "squads": len(squads),
            "groups": sum(len(s.groups) for s in squads) + len(special_groups),
        },
    )
    return team
