"""Small helpers the honours services share."""

from hongfeng.core.errors import DomainError
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit, UnitKind


def clean_text(value, *, field: str, label: str, limit: int, required: bool = True) -> str:
    """Whitespace collapsed; refused when empty (if required) or too long."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise DomainError(f"请填写{label}。", code="required", field=field)
    if len(text) > limit:
        raise DomainError(f"{label}不能超过{limit}字。", code="too_long", field=field)
    return text


def association_of(unit: Unit) -> Unit | None:
    """The nearest association at or above the unit (the one whose rules apply)."""
    if unit.kind in ASSOCIATION_KINDS:
        return unit
    return (
        Unit.objects.filter(pk__in=unit.ancestor_ids(), kind__in=ASSOCIATION_KINDS)
        .order_by("-depth")
        .first()
    )


def team_of(member) -> Unit:
    """The member's 总队 (their unit itself when it is the team)."""
    unit = member.unit
    if unit.kind == UnitKind.TEAM or unit.team_id is None:
        return unit
    return unit.team


def captains_of(team: Unit):
    """The accounts holding the captain role over the team (who decide on an exit)."""
    from hongfeng.accounts.models import Role, RoleAssignment

    return [
        a.user
        for a in RoleAssignment.objects.active()
        .filter(role=Role.CAPTAIN, unit=team)
        .select_related("user")
        .order_by("id")
    ]
