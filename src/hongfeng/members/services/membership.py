"""A member's place in the team: dynamic status (5.2.7), the 1+1 partner (5.4.6) and moves
between the team's squads and groups — each audited, each ending or beginning role rows as
history."""

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError, Forbidden
from hongfeng.members.models import Member, MemberStatus, StatusChange
from hongfeng.members.services.files import bump_member, placeable_unit
from hongfeng.orgs.models import Unit


def _end_team_roles(member: Member, *, actor, reason: str) -> int:
    """On exit or suspension the member's roles in the team end (the rows stay as history)."""
    team = member.unit if member.unit.kind == "team" else member.unit.team
    return (
        RoleAssignment.objects.active()
        .filter(user=member.user, unit__path__startswith=team.path)
        .update(revoked_at=timezone.now(), revoked_by=actor, revoke_reason=reason[:200])
    )


@transaction.atomic
def change_status(*, actor, member: Member, to: str, reason: str) -> Member:
    """Dynamic management (5.2.7): move a member to another status along STATUS_FLOW, with a
    reason; the change is a new history row. Exit ends the member's roles in the team; nothing
    is deleted, and the person may come back through a new application."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权变更该队员的状态。")
    if member.user_id == actor.pk:
        raise Forbidden("不能变更自己的状态。")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("请填写变更原因。", code="reason_required", field="reason")
    if len(reason) > 200:
        raise DomainError("原因不能超过200字。", code="too_long", field="reason")
    if to not in MemberStatus.values:
        raise DomainError("未知的状态。", code="invalid_status", field="status")
    if not member.can_become(to):
        raise DomainError(
            f"不能从「{MemberStatus(member.status).label}」直接变为「{MemberStatus(to).label}」。",
            code="invalid_transition",
            field="status",
        )
    now = timezone.now()
    StatusChange.objects.create(
        member=member,
        from_status=member.status,
        to_status=to,
        reason=reason,
        changed_by=actor,
        changed_at=now,
    )
    before = member.status
    member = bump_member(member, status=to, status_changed_at=now)
    # Suspension and exit end the member's roles in the team (a suspended captain leads no
    # one); coming back from a suspension restores the 队员 role — leader roles are granted
    # again by whoever grants them.
    ended = (
        _end_team_roles(member, actor=actor, reason=reason)
        if to in (MemberStatus.SUSPENDED, MemberStatus.EXITED)
        else 0
    )
    if before == MemberStatus.SUSPENDED and to != MemberStatus.EXITED:
        RoleAssignment.objects.create(
            user=member.user, role=Role.VOLUNTEER, unit=member.unit, granted_by=actor
        )
    record_event(
        action="member.status_changed",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"from": before, "to": to, "reason": reason, "roles_ended": ended},
    )
    return member


@transaction.atomic
def set_partner(*, actor, member: Member, partner: Member | None) -> Member:
    """1+1 pairing (5.4.6): a new member (first six months) with a veteran of the same team."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权为该队员安排结对。")
    if partner is None:
        member = bump_member(member, partner=None, partnered_on=None)
    else:
        if partner.pk == member.pk:
            raise DomainError("不能与自己结对。", code="invalid_partner", field="partner")
        if _team_of(partner) != _team_of(member):
            raise DomainError("结对的老队员须在同一总队。", code="invalid_partner", field="partner")
        today = timezone.localdate()
        if not partner.can_partner_on(today):
            raise DomainError(
                "结对人须是入队满6个月的在队或核心队员。", code="invalid_partner", field="partner"
            )
        member = bump_member(member, partner=partner, partnered_on=today)
    record_event(
        action="member.partnered",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"partner": partner.pk if partner else None},
    )
    return member


def _team_of(member: Member) -> int:
    return member.unit.team_id_or_self


@transaction.atomic
def move_member(*, actor, member: Member, unit: Unit) -> Member:
    """Move a member to another squad or group of the same team; their 队员 role follows."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权调整该队员。")
    access.require(actor, "members.manage", unit, "您无权把队员调入该单位。")
    unit = placeable_unit(unit)
    if unit.team_id_or_self != member.unit.team_id_or_self:
        raise DomainError(
            "只能在同一总队内调整；跨队请办理退出后重新申请。", code="invalid_unit", field="unit"
        )
    if unit.pk == member.unit_id:
        return member
    before = member.unit
    member = bump_member(member, unit=unit)
    # Role rows are history: the old one ends, a new one begins.
    moved = (
        RoleAssignment.objects.active()
        .filter(user=member.user, role=Role.VOLUNTEER, unit=before)
        .update(revoked_at=timezone.now(), revoked_by=actor, revoke_reason=f"调整到{unit.name}")
    )
    if moved:
        RoleAssignment.objects.create(
            user=member.user, role=Role.VOLUNTEER, unit=unit, granted_by=actor
        )
    record_event(
        action="member.moved",
        actor=actor,
        target=member,
        unit=unit,
        summary={"from": before.pk, "to": unit.pk, "from_name": before.name, "to_name": unit.name},
    )
    return member
