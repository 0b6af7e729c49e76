"""The one access choke point (architecture.md). Every page, endpoint and service that reads or
changes protected data asks here.

A role assignment is "role R over unit U and its subtree" (5.1). Each role grants capabilities,
and each capability reaches a set of units in one of the shapes of `Reach` (SUBTREE, BELOW,
GUIDED, CHAIN; hongfeng.core.registry.capabilities describes them). Which role holds which
capability, with which reach, is what the apps register (`registry.capabilities`, each app its
own, from its AppConfig.ready()); `CAPABILITIES` is that table by role.

A platform-wide assignment (no unit; only the three powers) reaches everything for its
capabilities. Anything outside the reach answers 404, indistinguishable from "does not exist".
"""

from collections.abc import Iterator, Mapping

from django.db.models import Exists, OuterRef, Q

from hongfeng.accounts.models import (
    PRIVILEGED_ROLES,
    ROLE_UNIT_KINDS,
    THREE_POWERS,
    Role,
    RoleAssignment,
    User,
)
from hongfeng.core import registry
from hongfeng.core.errors import Forbidden, NotFound
from hongfeng.core.registry import Reach, RegistryError, Viewer
from hongfeng.orgs.models import Unit, UnitKind


class _RoleTable(Mapping):
    """role → {capability: Reach}, built from the registered capabilities on first use (after
    every app's ready(); reading freezes the registry). A role that holds nothing maps to {}."""

    def __init__(self):
        self._table: dict[str, dict[str, Reach]] | None = None

    def _built(self) -> dict[str, dict[str, Reach]]:
        if self._table is None:
            table: dict[str, dict[str, Reach]] = {role: {} for role in Role.values}
            for capability in registry.capabilities:
                for role, reach in capability.reach.items():
                    if role not in table:
                        raise RegistryError(
                            f"capability {capability.name!r}: no role {role!r} (accounts.Role)"
                        )
                    table[role][capability.name] = reach
            self._table = table
        return self._table

    def __getitem__(self, role: str) -> dict[str, Reach]:
        return self._built()[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


CAPABILITIES: Mapping[str, dict[str, Reach]] = _RoleTable()

# Which roles a holder may grant (always inside their "roles.grant" reach). Granting one's own
# role is allowed only strictly below one's own unit.
GRANTABLE: dict[str, frozenset] = {
    Role.ASSOCIATION_ADMIN: frozenset(
        {
            Role.ASSOCIATION_ADMIN,
            Role.CAPTAIN,
            Role.SQUAD_LEADER,
            Role.GROUP_LEADER,
            Role.VOLUNTEER,
        }
    ),
    Role.BUREAU_OFFICER: frozenset({Role.BUREAU_OFFICER, Role.STATION_OFFICER}),
    Role.CAPTAIN: frozenset({Role.SQUAD_LEADER, Role.GROUP_LEADER, Role.VOLUNTEER}),
    Role.SQUAD_LEADER: frozenset({Role.GROUP_LEADER, Role.VOLUNTEER}),
    # The three powers themselves are granted only at the server console (`hongfeng
    # create_admin`), so no web account can mint itself a 系统管理员 or 审计员 to hold all three.
    Role.SECURITY_ADMIN: frozenset(Role.values) - THREE_POWERS,
}

_NOTHING = Q(pk__in=[])


def assignments(user) -> list[RoleAssignment]:
    """The user's active role assignments on non-archived units, loaded once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_hf_assignments", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.active()
            .filter(user=user)
            .filter(Q(unit__isnull=True) | Q(unit__archived_at__isnull=True))
            .select_related("unit")
            .order_by("id")
        )
        user._hf_assignments = cached
    return cached


def forget(user) -> None:
    """Drop the cached assignments (and what was derived from them) after the user's roles
    changed in this request."""
    if user is not None:
        user.__dict__.pop("_hf_assignments", None)
        user.__dict__.pop("_hf_own_file_reach", None)


def roles_of(user) -> set[str]:
    return {a.role for a in assignments(user)}


def viewer(user) -> Viewer:
    """What the navigation shows this user by (registry.viewer_profile): the capabilities they
    hold anywhere, their roles' names, and whether they hold no role but 队员 (the volunteer's
    bar on a phone)."""
    held = assignments(user)
    roles = sorted({a.role for a in held}, key=Role.values.index)
    return Viewer(
        capabilities=frozenset(c for a in held for c in CAPABILITIES[a.role]),
        role_labels=tuple(Role(r).label for r in roles),
        volunteer_only=set(roles) <= {Role.VOLUNTEER},
    )


def is_privileged(user) -> bool:
    return bool(roles_of(user) & PRIVILEGED_ROLES)


def has_capability(user, capability: str) -> bool:
    """Whether the user holds the capability anywhere (to show a menu entry, say)."""
    return any(capability in CAPABILITIES[a.role] for a in assignments(user))


def _chain_ids(unit: Unit) -> list[int]:
    ids = [*unit.ancestor_ids(), unit.pk]
    team_id = unit.team_id_or_self
    return ids[ids.index(team_id) :] if team_id in ids else [unit.pk]


def reach_q(reach: Reach, unit: Unit, prefix: str = "") -> Q:
    """The units `reach` covers from `unit` (for rules like "a station publishes to the teams
    it guides")."""
    return _reach_q(reach, unit, prefix)


def _reach_q(reach: Reach, unit: Unit, prefix: str) -> Q:
    def q(lookup: str, value) -> Q:
        return Q(**{f"{prefix}{lookup}": value})

    if reach is Reach.SUBTREE:
        return q("path__startswith", unit.path)
    if reach is Reach.BELOW:
        return q("path__startswith", unit.path) & q("depth__gt", unit.depth)
    if reach is Reach.GUIDED:
        return q("pk__in", _guided_units(unit))
    return q("pk__in", _chain_ids(unit))


# Counts changes to units made in this process (orgs.services and Unit's own signals): a guided
# reach worked out earlier in a request is worked out again after any of them.
_units_changed = 0


def units_changed(**_signal) -> None:
    """Note that units were created, moved or re-guided (see `_guided_units`)."""
    global _units_changed
    _units_changed += 1


def _guided_units(unit: Unit):
    """The units of a guided reach: `unit`'s subtree, the teams guided by a station in it and
    everything in those teams.

    A UNION of three index lookups rather than `path OR station.path OR team's station.path`
    over joined units: PostgreSQL could apply that OR only after joining every unit twice, and
    could not estimate it — at province scale it expected 7,860 units for a station officer
    where there were 36 and read every member file to count 10,600 of them (17 ms). A station
    guides a handful of teams: its reach goes to the database as the list of their unit ids,
    which it estimates exactly (2 ms).

    Kept on the assignment's unit — so for one request, as the assignments are — and worked
    out again once units change in this process (`units_changed`): a police officer's home page
    asks for the reach six times, and it was a third of that page's work."""
    kept = unit.__dict__.get("_hf_guided")
    if kept is not None and kept[0] == _units_changed:
        return kept[1]
    ids = Unit.objects.order_by().values("pk")  # a union admits no ORDER BY (Unit's default)
    stations = ids.filter(path__startswith=unit.path)
    units = stations.union(
        ids.filter(guiding_station__in=stations),
        ids.filter(team__in=ids.filter(guiding_station__in=stations)),
    ).order_by()
    if unit.kind == UnitKind.STATION:
        units = [row["pk"] for row in units]
    unit.__dict__["_hf_guided"] = (_units_changed, units)
    return units


def scope_q(user, capability: str, field: str = "") -> Q:
    """A filter on units (or on a model's unit foreign key named `field`) that keeps exactly the
    rows in the user's reach for `capability`. Disabled and anonymous users reach nothing."""
    prefix = f"{field}__" if field else ""
    parts = []
    for assignment in assignments(user):
        reach = CAPABILITIES[assignment.role].get(capability)
        if reach is None:
            continue
        if assignment.unit_id is None:
            return Q()  # platform-wide
        parts.append(_reach_q(reach, assignment.unit, prefix))
    if not parts:
        return _NOTHING
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def own_file_in_reach(user, capability: str) -> bool | None:
    """Whether the user's own member file lies in their reach for `capability`: None when
    they have no file (or are anonymous). One query, cached on the user object like the
    assignments.

    Lists of member files show "the reach, plus my own file"; when the own file is already in
    reach (a captain in their team) or there is none (an association admin), the "plus" is
    left out, because PostgreSQL can apply `unit.path LIKE … OR member.user_id = …` only by
    reading every member file: at province scale (200,000 files) a captain's roster of 200 took
    two full scans per page (≈ 100 ms each on an idle machine) instead of two index lookups."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cache = user.__dict__.setdefault("_hf_own_file_reach", {})
    if capability not in cache:
        from hongfeng.members.models import Member

        in_reach = Exists(Unit.objects.filter(scope_q(user, capability), pk=OuterRef("unit_id")))
        cache[capability] = (
            Member.objects.filter(user=user)
            .annotate(in_reach=in_reach)
            .values_list("in_reach", flat=True)
            .first()
        )
    return cache[capability]


def has_global(user, capability: str) -> bool:
    """Whether a platform-wide assignment gives the user this capability everywhere."""
    return any(a.unit_id is None and capability in CAPABILITIES[a.role] for a in assignments(user))


def parse_id(raw) -> int:
    """Ids come from URLs and JSON; anything that is not a positive integer is simply unknown."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise NotFound() from None
    if value <= 0 or value > 2**62:
        raise NotFound()
    return value


def get_unit_for_user(user, unit_id, capability: str = "orgs.view") -> Unit:
    """The unit if the user reaches it for `capability`, else NotFound (404)."""
    unit = (
        Unit.objects.visible_to(user, capability)
        .select_related("parent", "guiding_station", "team")
        .filter(pk=parse_id(unit_id))
        .first()
    )
    if unit is None:
        raise NotFound()
    return unit


def can(user, capability: str, unit: Unit) -> bool:
    """Whether `unit` lies in the user's reach for `capability` (one query at most)."""
    if has_global(user, capability):
        return True
    q = scope_q(user, capability)
    if q == _NOTHING:
        return False
    return Unit.objects.filter(q, pk=unit.pk).exists()


def require(user, capability: str, unit: Unit, message: str) -> None:
    """For a unit the user can already see: refuse the action with 403 and a Chinese message."""
    if not can(user, capability, unit):
        raise Forbidden(message)


def can_grant(granter, role: str, unit: Unit | None) -> bool:
    """Whether `granter` may grant (or revoke) `role` over `unit`. Platform-wide assignments
    (unit None) are made only at the server console, never through the UI or API."""
    if unit is None:
        return False
    for assignment in assignments(granter):
        if "roles.grant" not in CAPABILITIES[assignment.role]:
            continue
        if role not in GRANTABLE.get(assignment.role, ()):
            continue
        anchor = assignment.unit
        if anchor is None:
            return True
        same_role = role == assignment.role
        if unit.path.startswith(anchor.path) and not (same_role and unit.pk == anchor.pk):
            return True
    return False


def roles_grantable_at(granter, unit: Unit) -> list[str]:
    """Roles the granter may grant over this unit, fitting its kind."""
    return [
        role
        for role in grantable_roles(granter)
        if unit.kind in ROLE_UNIT_KINDS[role] and can_grant(granter, role, unit)
    ]


def grantable_roles(granter) -> list[str]:
    """Roles the granter may grant somewhere, in the order of `Role`."""
    names: set[str] = set()
    for assignment in assignments(granter):
        if "roles.grant" in CAPABILITIES[assignment.role]:
            names |= GRANTABLE.get(assignment.role, frozenset())
    return [r for r in Role.values if r in names]


def visible_users(viewer, capability: str = "accounts.view"):
    """Accounts holding at least one active role inside the viewer's reach (all accounts for a
    platform-wide holder of the capability)."""
    if has_global(viewer, capability):
        return User.objects.all()
    q = scope_q(viewer, capability, "unit")
    if q == _NOTHING:
        return User.objects.none()
    in_scope = RoleAssignment.objects.active().filter(q, user=OuterRef("pk"))
    return User.objects.filter(Exists(in_scope))


def get_user_for_user(viewer, user_id, capability: str = "accounts.view") -> User:
    user = visible_users(viewer, capability).filter(pk=parse_id(user_id)).first()
    if user is None:
        raise NotFound()
    return user


def get_assignment_for_user(viewer, assignment_id, capability: str = "roles.view"):
    assignment = (
        RoleAssignment.objects.visible_to(viewer, capability)
        .select_related("user", "unit", "granted_by", "revoked_by")
        .filter(pk=parse_id(assignment_id))
        .first()
    )
    if assignment is None:
        raise NotFound()
    return assignment


def home_unit(user) -> Unit | None:
    """The unit an account's own events are filed under (its first scoped assignment)."""
    for assignment in assignments(user):
        if assignment.unit_id is not None:
            return assignment.unit
    return None


def _wholly_within(actor, user: User, capability: str) -> bool:
    """Every active role of `user` lies inside the actor's reach for `capability` — an account
    that also holds a role elsewhere (or platform-wide) is not this actor's to touch."""
    if has_global(actor, capability):
        return True
    q = scope_q(actor, capability, "unit")
    if q == _NOTHING:
        return False
    held = RoleAssignment.objects.active().filter(user=user)
    return held.exists() and not held.exclude(q).exists()


def can_manage_account(actor, user: User) -> bool:
    """系统管理员 disable, enable and reset accounts whose roles all lie in their scope — never an
    account of the three powers (those are managed at the server console, so a 系统管理员
    cannot take over the 安全管理员 or 审计员)."""
    if RoleAssignment.objects.active().filter(user=user, role__in=THREE_POWERS).exists():
        return False
    return _wholly_within(actor, user, "accounts.manage")


def can_unlock(actor, user: User) -> bool:
    """安全管理员 lift lockouts of accounts whose roles all lie in their scope."""
    return _wholly_within(actor, user, "accounts.unlock")
