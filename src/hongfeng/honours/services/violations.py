"""Violations (5.2.10: violations → warning, then exit).

A warning records the reason and the evidence (a description, and where the material is kept);
optionally it deducts points. Each association may set its rule — `warnings` warnings within
`window_months` months — default the second warning within 12 months. When a warning reaches
the rule, an exit proposal goes to the team's captain, who confirms it (the member's status
becomes 已退出 through members.services.change_status, with its history row and the end of the
member's roles) or rejects it with a reason. Member and captain are told at every step; every
step is an audit row."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.honours.models import ExitProposal, MemberWarning, ProposalStatus, ViolationRule
from hongfeng.honours.selectors import violation_rule_in_force
from hongfeng.honours.services.common import captains_of, clean_text, team_of
from hongfeng.members.models import SERVING, Member, MemberStatus
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit

DEFAULT_WARNINGS = 2
DEFAULT_WINDOW_MONTHS = 12
MAX_PENALTY = Decimal("1000")


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` months earlier (the 31st → the month's last day)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def violation_rule_terms(rule: ViolationRule | None) -> tuple[int, int, str]:
    """(warnings, window in months, label) of a rule row, or of the default (the second
    within 12 months) when there is none."""
    warnings, months = (
        (rule.warnings, rule.window_months) if rule else (DEFAULT_WARNINGS, DEFAULT_WINDOW_MONTHS)
    )
    return warnings, months, f"{months}个月内第{warnings}次警告建议退出"


def violation_rule_for(unit: Unit) -> tuple[int, int, str]:
    """(warnings, window in months, label) in force for members under `unit`: the nearest
    association above it that set a rule (`selectors.violation_rule_in_force`), else the
    default."""
    return violation_rule_terms(violation_rule_in_force(unit))


@transaction.atomic
def set_violation_rule(
    *, actor, association: Unit, warnings: int, window_months: int
) -> ViolationRule:
    """An association's rule for proposing exit (applies to warnings issued from now on)."""
    access.require(actor, "honours.rules", association, "只有协会管理员可以设置警告退出规则。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "警告退出规则由义警协会设置。", code="not_an_association", field="association_id"
        )
    if not isinstance(warnings, int) or not 1 <= warnings <= 10:
        raise DomainError("警告次数须在 1 到 10 之间。", code="invalid_rule", field="warnings")
    if not isinstance(window_months, int) or not 1 <= window_months <= 60:
        raise DomainError("期间须在 1 到 60 个月之间。", code="invalid_rule", field="window_months")
    rule, _ = ViolationRule.objects.update_or_create(
        association=association,
        defaults={
            "warnings": warnings,
            "window_months": window_months,
            "updated_by": actor,
            "updated_at": timezone.now(),
        },
    )
    record_event(
        action="violation.rule_set",
        actor=actor,
        target=association,
        unit=association,
        summary={"warnings": warnings, "window_months": window_months},
    )
    return rule


def _penalty(value) -> Decimal | None:
    if value in (None, "", 0):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(
            "扣减积分须为数字。", code="invalid_penalty", field="penalty_points"
        ) from None
    if not number.is_finite() or number < 0 or number > MAX_PENALTY:
        raise DomainError(
            f"扣减积分须在 0 到 {MAX_PENALTY} 之间。",
            code="invalid_penalty",
            field="penalty_points",
        )
    number = number.quantize(Decimal("0.01"))
    return number or None


def _deduct(member: Member, warning: MemberWarning, amount: Decimal, actor):
    """Penalty points: the cumulative total (and so the level) drops by the full amount; the
    spendable balance by as much as it holds (it never goes below zero)."""
    from hongfeng.points.models import MemberPoints
    from hongfeng.points.services import post_entry

    row = MemberPoints.objects.filter(member=member).first()
    balance = row.balance if row else Decimal(0)
    return post_entry(
        member=member,
        source="penalty",
        amount=-min(amount, balance),
        earned=-amount,
        explanation=f"警告扣分：{warning.reason}"[:300],
        actor=actor,
        key=f"warning:{warning.pk}",
    )


def _notify(user, **kwargs) -> None:
    from hongfeng.notices.services import notify_all

    notify_all(user=user, **kwargs)


@transaction.atomic
def issue_warning(
    *,
    actor,
    member: Member,
    reason: str,
    evidence: str,
    evidence_ref: str = "",
    penalty_points=None,
) -> MemberWarning:
    """Warn a serving member for a violation, with its reason and evidence; optionally deduct
    points. If the warning reaches the association's rule, the exit is proposed to the
    captain (once: never a second pending proposal)."""
    member = Member.objects.select_for_update().select_related("unit", "user").get(pk=member.pk)
    access.require(actor, "violations.warn", member.unit, "您无权警告该队员。")
    if member.user_id == actor.pk:
        raise Forbidden("不能警告自己。")
    if member.status not in SERVING:
        raise DomainError(
            f"该队员当前状态为「{MemberStatus(member.status).label}」，不能警告。",
            code="not_serving",
        )
    reason = clean_text(reason, field="reason", label="警告事由", limit=300)
    evidence = (evidence or "").strip()
    if not evidence:
        raise DomainError("请填写证据说明。", code="required", field="evidence")
    if len(evidence) > 2000:
        raise DomainError("证据说明不能超过2000字。", code="too_long", field="evidence")
    evidence_ref = clean_text(
        evidence_ref, field="evidence_ref", label="证据材料", limit=200, required=False
    )
    penalty = _penalty(penalty_points)
    team = team_of(member)
    now = timezone.now()
    warning = MemberWarning.objects.create(
        member=member,
        team=team,
        reason=reason,
        evidence=evidence,
        evidence_ref=evidence_ref,
        penalty_points=penalty,
        issued_by=actor,
        issued_at=now,
    )
    if penalty:
        entry = _deduct(member, warning, penalty, actor)
        MemberWarning.objects.filter(pk=warning.pk).update(points_entry=entry)
        warning.points_entry = entry
    record_event(
        action="violation.warned",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"warning": warning.pk, "reason": reason, "penalty": str(penalty or 0)},
    )
    _notify(
        member.user,
        kind="warning",
        title="您收到一次警告",
        body=f"事由：{reason}"
        + (f"；扣减积分 {penalty.normalize():f} 分" if penalty else "")
        + "。如有异议，请联系总队长。",
        ref=f"warning:{warning.pk}",
        link="/honours/",
    )
    _propose_exit_if_due(member, warning, team)
    return warning


def _propose_exit_if_due(member: Member, warning: MemberWarning, team: Unit) -> None:
    needed, months, label = violation_rule_for(member.unit)
    since = months_before(warning.issued_at, months)
    count = MemberWarning.objects.filter(member=member, issued_at__gt=since).count()
    if count < needed:
        return
    if ExitProposal.objects.filter(member=member, status=ProposalStatus.PENDING).exists():
        return
    proposal = ExitProposal.objects.create(
        member=member,
        team=team,
        warning=warning,
        warning_count=count,
        rule_label=label,
        proposed_at=warning.issued_at,
    )
    record_event(
        action="violation.exit_proposed",
        actor=None,
        actor_label="系统（警告退出规则）",
        target=member,
        unit=member.unit,
        summary={"proposal": proposal.pk, "warnings": count, "rule": label},
    )
    for captain in captains_of(team):
        if captain.pk == member.user_id:
            continue
        _notify(
            captain,
            kind="exit_proposed",
            title=f"退出建议待您决定：{member.name}",
            body=(
                f"{member.name} {months}个月内已受警告 {count} 次（{label}），"
                "请确认退出或说明理由不予退出。"
            ),
            ref=f"exit:{proposal.pk}",
            link="/honours/violations/",
        )
    _notify(
        member.user,
        kind="exit_proposed",
        title="您的退出建议已提交总队长",
        body=f"您在{months}个月内已受警告 {count} 次，按规则已建议退出，由总队长决定。",
        ref=f"exit-member:{proposal.pk}",
        link="/honours/",
    )


@transaction.atomic
def decide_exit(*, actor, proposal: ExitProposal, confirm: bool, reason: str) -> ExitProposal:
    """The captain decides a pending proposal: confirm (the member exits, with a status
    history row) or reject; a reason either way."""
    from hongfeng.members.services import change_status

    proposal = (
        ExitProposal.objects.select_for_update()
        .select_related("member__unit", "member__user")
        .get(pk=proposal.pk)
    )
    member = proposal.member
    access.require(actor, "violations.decide", member.unit, "只有总队长可以决定队员退出。")
    if proposal.status != ProposalStatus.PENDING:
        raise Conflict("该退出建议已有决定。", code="already_decided")
    reason = clean_text(reason, field="reason", label="决定理由", limit=150)
    now = timezone.now()
    if confirm:
        change_status(
            actor=actor,
            member=member,
            to=MemberStatus.EXITED,
            reason=f"违规警告退出（{proposal.rule_label}）：{reason}",
        )
    proposal.status = ProposalStatus.CONFIRMED if confirm else ProposalStatus.REJECTED
    proposal.decided_by = actor
    proposal.decided_at = now
    proposal.decision_reason = reason
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    record_event(
        action="violation.exit_confirmed" if confirm else "violation.exit_rejected",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"proposal": proposal.pk, "reason": reason},
    )
    _notify(
        member.user,
        kind="exit_decided",
        title="总队长已确认您退出队伍" if confirm else "总队长决定您不予退出",
        body=f"理由：{reason}",
        ref=f"exit-decided:{proposal.pk}",
        link="/honours/",
    )
    return proposal


__all__ = [
    "decide_exit",
    "issue_warning",
    "months_before",
    "set_violation_rule",
    "violation_rule_for",
    "violation_rule_terms",
]
