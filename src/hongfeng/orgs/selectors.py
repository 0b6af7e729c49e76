"""Reads of the organisation tower, always through the access helper."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q

from hongfeng.accounts import access
from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.core.errors import NotFound
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit, UnitKind


def station_choices(user):
    """Active police stations that a team may be put under the guidance of.

    Station names are a public directory (every 派出所 is listed on government sites), and the
    association staff who create teams sit in another branch of the tree than the stations, so
    this list is deliberately not scoped; it holds nothing but names, for signed-in users."""
    if not access.assignments(user):
        return Unit.objects.none()
    return Unit.objects.active().filter(kind=UnitKind.STATION).order_by("path")


def guided_teams(user, police_unit: Unit):
    """Active teams guided by this station or by the stations under this bureau, as far as the
    user can see them."""
    return (
        Unit.objects.visible_to(user)
        .teams_guided_by(police_unit)
        .active()
        .select_related("parent", "guiding_station")
        .order_by("path")
    )


def without_captain(units):
    """The active teams among `units` that have no 总队长 (5.2.4: exactly one per team, 应;
    a second is refused when granted, so only "none" can happen)."""
    captain = RoleAssignment.objects.active().filter(role=Role.CAPTAIN, unit=OuterRef("pk"))
    return units.filter(kind=UnitKind.TEAM, archived_at__isnull=True).exclude(Exists(captain))


def with_children_count(units, user):
    """Annotate each unit with the number of its active children the user can see — a count
    of hidden units would itself reveal them."""
    visible_child = Q(children__archived_at__isnull=True) & access.scope_q(
        user, "orgs.view", "children"
    )
    return units.annotate(children_count=Count("children", filter=visible_child, distinct=True))


def tree_roots(user, *, include_archived: bool = False) -> list[Unit]:
    """The tops of what the user sees: the unit of each assignment (for a station or bureau also
    the teams it guides; for a 队员 their team), or the real roots for platform-wide roles."""
    visible = with_children_count(Unit.objects.visible_to(user), user)
    if not include_archived:
        visible = visible.active()
    if access.has_global(user, "orgs.view"):
        return list(visible.filter(parent__isnull=True).order_by("kind", "name"))
    root_ids: set[int] = set()
    guided_paths: list[str] = []
    for assignment in access.assignments(user):
        reach = access.CAPABILITIES[assignment.role].get("orgs.view")
        if reach is None:
            continue
        unit = assignment.unit
        if reach is access.Reach.CHAIN:
            root_ids.add(unit.team_id_or_self)
        else:
            root_ids.add(unit.pk)
        if reach is access.Reach.GUIDED:
            guided_paths.append(unit.path)
    query = Q(pk__in=root_ids)
    for path in guided_paths:
        query |= Q(kind=UnitKind.TEAM, guiding_station__path__startswith=path)
    roots = list(visible.filter(query).order_by("path"))
    # Drop a root that lies inside another root (a captain who is also a squad leader there).
    paths = [r.path for r in roots]
    return [r for r in roots if not any(r.path != p and r.path.startswith(p) for p in paths)]


def children_of(user, unit: Unit, *, include_archived: bool = False):
    """Visible children of a unit with the number of their own active children."""
    children = with_children_count(
        Unit.objects.visible_to(user).filter(parent=unit).select_related("guiding_station"), user
    ).order_by("kind", "name")
    return children if include_archived else children.active()


def visible_ancestors(user, unit: Unit) -> list[Unit]:
    """The breadcrumb: ancestors the user can see, root first (one query)."""
    ids = unit.ancestor_ids()
    if not ids:
        return []
    found = {u.pk: u for u in Unit.objects.visible_to(user).filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


KIND_ORDER = [
    UnitKind.CITY_ASSOCIATION,
    UnitKind.COUNTY_ASSOCIATION,
    UnitKind.TEAM,
    UnitKind.SQUAD,
    UnitKind.GROUP,
    UnitKind.CITY_BUREAU,
    UnitKind.COUNTY_BUREAU,
    UnitKind.STATION,
]


def kind_counts(units, order) -> list[tuple[str, str, int]]:
    """(query string selecting them, label, number) per kind in `order`, one aggregate query;
    special groups (党员先锋岗…) are counted apart from ordinary groups."""
    rows = units.values("kind").annotate(
        n=Count("id"), special=Count("id", filter=~Q(special_tag=""))
    )
    by_kind = {row["kind"]: (row["n"], row["special"]) for row in rows}
    counts = []
    for kind in order:
        n, special = by_kind.get(kind, (0, 0))
        if kind == UnitKind.GROUP:
            if n - special:
                counts.append(("kind=group&special=0", UnitKind.GROUP.label, n - special))
            if special:
                counts.append(("kind=group&special=1", "特色小组", special))
        elif n:
            counts.append((f"kind={kind}", UnitKind(kind).label, n))
    return counts


@dataclass
class UnitSummary:
    """Real counts for a unit a user is responsible for (home page, unit detail)."""

    unit: Unit
    counts: list[tuple[str, str, int]]  # (query string, label, number) below the unit
    guided_teams: int
    role_holders: int


def summarize(user, unit: Unit) -> UnitSummary:
    """Counts of active units by kind below `unit`, teams it guides, and people holding roles in
    its subtree — three aggregate queries, whatever the size of the subtree."""
    below = Unit.objects.visible_to(user).subtree_of(unit, include_self=False).active()
    counts = kind_counts(below, KIND_ORDER)
    guided = 0
    if unit.is_police:
        guided = guided_teams(user, unit).count()
    holders = (
        RoleAssignment.objects.active()
        .visible_to(user)
        .filter(unit__path__startswith=unit.path, unit__archived_at__isnull=True)
        .exclude(role__in=[Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR])
        .values("user")
        .distinct()
        .count()
    )
    return UnitSummary(unit=unit, counts=counts, guided_teams=guided, role_holders=holders)


def platform_counts() -> list[tuple[str, str, int]]:
    """Active units by kind across the platform (for platform-wide roles), one query."""
    order = [
        UnitKind.PROVINCE_ASSOCIATION,
        *KIND_ORDER[:5],
        UnitKind.PROVINCE_BUREAU,
        *KIND_ORDER[5:],
    ]
    return kind_counts(Unit.objects.active(), order)


def associations_in_reach(user, capability: str):
    """The live associations in the user's reach for `capability`, tree order: those whose
    rules or defaults an association admin sets (points, honours, risk assessments)."""
    return (
        Unit.objects.visible_to(user, capability)
        .active()
        .filter(kind__in=ASSOCIATION_KINDS)
        .order_by("path")
    )


def associations_for(user, capability: str, *, limit: int = 200) -> list[Unit]:
    """`associations_in_reach`, as the picker of a page where an association admin sets one of
    their associations' rules."""
    return list(associations_in_reach(user, capability)[:limit])


def pick_association(associations: list[Unit], raw) -> Unit:
    """The association a page was asked for (`?association=<id>`): 404 when it is not among
    `associations`; the first of them when none was asked for."""
    if not raw:
        if not associations:
            raise NotFound("您管辖范围内没有义警协会。")
        return associations[0]
    association = next((a for a in associations if str(a.pk) == str(raw)), None)
    if association is None:
        raise NotFound()
    return association
