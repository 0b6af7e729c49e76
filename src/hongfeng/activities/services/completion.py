"""Completion: service hours from check-ins clipped to the activity's window (5.2.9), the
organiser's quality ratings and effect evaluation (5.4.5, 6.1.4), and audited hours
corrections. Evaluating settles the hours as ledger entries — the facts the points engine
turns into points."""

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Subquery, Sum
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    CheckIn,
    CheckInKind,
    Effect,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
    Quality,
)
from hongfeng.activities.services.checkins import (
    NOT_COUNTED,
    _latest_review,
    auto_check_out,
    pending_reviews,
)
from hongfeng.activities.services.publishing import transition
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.members.models import Member

__all__ = [
    "computed_hours",
    "correct_hours",
    "evaluate_activity",
    "finish_activity",
    "hours_by_member",
    "rate_participants",
    "settled_hours",
]

HOUR = Decimal("0.01")


def _hours(seconds: float) -> Decimal:
    return (Decimal(seconds) / Decimal(3600)).quantize(HOUR, rounding=ROUND_HALF_UP)


def computed_hours(activity: Activity, *, until: datetime | None = None) -> dict[int, Decimal]:
    """Hours per member from their counted records: each check-in paired with the next
    check-out, the overlap with [start, end] summed. A check-in still open counts up to `until`
    (for a live view) or not at all."""
    rows = (
        CheckIn.objects.filter(activity=activity)
        .annotate(last_review=Subquery(_latest_review()))
        .order_by("member_id", "at", "id")
        .values_list("member_id", "kind", "at", "last_review")
    )
    seconds: dict[int, float] = defaultdict(float)
    opened: dict[int, datetime | None] = {}
    for member_id, kind, at, review in rows:
        seconds[member_id] += 0
        if review in NOT_COUNTED:
            continue
        if kind == CheckInKind.IN:
            opened.setdefault(member_id, None)
            if opened[member_id] is None:
                opened[member_id] = at
        elif opened.get(member_id) is not None:
            seconds[member_id] += _overlap(activity, opened[member_id], at)
            opened[member_id] = None
    if until is not None:
        for member_id, start in opened.items():
            if start is not None:
                seconds[member_id] += _overlap(activity, start, until)
    return {m: _hours(s) for m, s in seconds.items()}


def _overlap(activity: Activity, start: datetime, end: datetime) -> float:
    lo, hi = max(start, activity.starts_at), min(end, activity.ends_at)
    return max((hi - lo).total_seconds(), 0.0)


def settled_hours(activity: Activity) -> dict[int, Decimal]:
    """The ledger's total per member for this activity (settled hours plus corrections)."""
    rows = (
        HoursEntry.objects.filter(activity=activity)
        .values("member_id")
        .annotate(total=Sum("hours"))
    )
    return {r["member_id"]: r["total"] for r in rows}


def hours_by_member(activity: Activity) -> dict[int, Decimal]:
    """What the pages show: the ledger once evaluated, else a live computation."""
    if activity.status == ActivityStatus.EVALUATED:
        return settled_hours(activity)
    return computed_hours(activity, until=min(timezone.now(), activity.ends_at))


@transaction.atomic
def finish_activity(*, actor, activity: Activity) -> Activity:
    """End the activity early or on time (the sweep does it at the end time anyway)."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权结束该活动。")
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS):
        raise DomainError("只有报名中或进行中的活动可以结束。", code="not_running")
    if timezone.now() < activity.starts_at:
        raise DomainError("活动尚未开始；不办了请取消活动并说明原因。", code="not_started")
    now = timezone.now()
    if now < activity.ends_at:  # ended early: the window (and hours) end now
        Activity.objects.filter(pk=activity.pk).update(ends_at=now, checkout_due_at=now)
    transition(activity=activity, to=ActivityStatus.FINISHED, actor=actor, reason="组织者结束活动")
    record_event(action="activity.finished", actor=actor, target=activity, unit=activity.unit)
    activity.refresh_from_db()
    return activity


def _participants(activity: Activity):
    return Participation.objects.filter(activity=activity, status=ParticipationStatus.CONFIRMED)


@transaction.atomic
def rate_participants(*, actor, activity: Activity, ratings: dict[int, str]) -> int:
    """The organiser's quality rating per participant (优秀/良好/合格/不合格), before the
    evaluation settles them."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权评价该活动。")
    if activity.status != ActivityStatus.FINISHED:
        raise DomainError("活动结束后、评价提交前才能评定完成质量。", code="not_finished")
    bad = [q for q in ratings.values() if q not in Quality.values]
    if bad:
        raise DomainError(
            "完成质量须为 优秀/良好/合格/不合格。", code="invalid_choice", field="quality"
        )
    rows = {p.member_id: p for p in _participants(activity).select_for_update()}
    unknown = [m for m in ratings if m not in rows]
    if unknown:
        raise DomainError("只能评定已报名的参与者。", code="not_a_participant", field="member_id")
    now = timezone.now()
    changed = []
    for member_id, quality in ratings.items():
        row = rows[member_id]
        if row.quality != quality:
            row.quality, row.rated_by, row.rated_at = quality, actor, now
            changed.append(row)
    Participation.objects.bulk_update(changed, ["quality", "rated_by", "rated_at"])
    if changed:
        record_event(
            action="activity.rated",
            actor=actor,
            target=activity,
            unit=activity.unit,
            summary={"ratings": {str(p.member_id): p.quality for p in changed}},
        )
    return len(changed)


def evaluate_activity(*, actor, activity: Activity, effect: str, summary: str) -> Activity:
    """The effect evaluation (6.1.4), which settles every participant's hours in the ledger.
    Needs every flagged record reviewed and every participant who served rated."""
    access.require(actor, "activities.manage", activity.unit, "您无权评价该活动。")
    # The automatic check-outs are committed on their own: they are flagged for review, so the
    # refusal below ("reviews pending") must not roll back the very records it asks to review.
    auto_check_out(activity)
    return _evaluate(actor=actor, activity=activity, effect=effect, summary=summary)


@transaction.atomic
def _evaluate(*, actor, activity: Activity, effect: str, summary: str) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权评价该活动。")
    if activity.status != ActivityStatus.FINISHED:
        raise DomainError("活动结束后才能评价。", code="not_finished")
    if effect not in Effect.values:
        raise DomainError("请选择活动成效。", code="invalid_choice", field="effect")
    summary = (summary or "").strip()
    if not summary or len(summary) > 2000:
        raise DomainError(
            "请填写成效评估（2000字以内）。", code="summary_required", field="summary"
        )
    pending = pending_reviews(activity).count()
    if pending:
        raise DomainError(f"还有 {pending} 条异常签到未审核，请先审核。", code="reviews_pending")
    hours = computed_hours(activity)
    unrated = [
        p.member.name
        for p in _participants(activity).select_related("member")
        if not p.quality and hours.get(p.member_id, Decimal(0)) > 0
    ]
    if unrated:
        raise DomainError(
            f"请先评定这些参与者的完成质量：{'、'.join(unrated[:10])}。", code="ratings_missing"
        )
    now = timezone.now()
    HoursEntry.objects.bulk_create(
        [
            HoursEntry(
                activity=activity,
                member_id=member_id,
                hours=value,
                source=HoursSource.CHECKINS,
                recorded_by=actor,
                recorded_at=now,
            )
            for member_id, value in hours.items()
        ]
    )
    Activity.objects.filter(pk=activity.pk).update(
        effect=effect, effect_summary=summary, evaluated_at=now
    )
    transition(activity=activity, to=ActivityStatus.EVALUATED, actor=actor)
    record_event(
        action="activity.evaluated",
        actor=actor,
        target=activity,
        unit=activity.unit,
        summary={
            "effect": effect,
            "participants": len(hours),
            "hours": str(sum(hours.values(), Decimal(0))),
        },
    )
    activity.refresh_from_db()
    _award(activity, actor)  # automatic scoring (5.4.5), in the same transaction
    return activity


@transaction.atomic
def correct_hours(
    *, actor, activity: Activity, member: Member, hours: Decimal, reason: str
) -> HoursEntry:
    """Set a participant's settled hours to `hours` by appending the difference as a correction
    (never an edit), with a reason; audited. Between 0 and the activity's length."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权更正服务时长。")
    if activity.status != ActivityStatus.EVALUATED:
        raise DomainError("活动评价后时长才结算；此前请审核或补签。", code="not_evaluated")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise DomainError("请填写更正原因（200字以内）。", code="reason_required", field="reason")
    try:
        hours = Decimal(hours).quantize(HOUR, rounding=ROUND_HALF_UP)
    except (ArithmeticError, ValueError, TypeError):
        raise DomainError("时长须为数字。", code="invalid_hours", field="hours") from None
    if not Decimal(0) <= hours <= activity.duration_hours:
        raise DomainError(
            f"时长须在 0 到 {activity.duration_hours} 小时之间（活动时长）。",
            code="invalid_hours",
            field="hours",
        )
    if not _participants(activity).filter(member=member).exists():
        raise DomainError("该队员没有参加此活动。", code="not_a_participant", field="member_id")
    current = settled_hours(activity).get(member.pk, Decimal(0))
    delta = hours - current
    if delta == 0:
        raise DomainError("与当前时长相同，无需更正。", code="no_change", field="hours")
    entry = HoursEntry.objects.create(
        activity=activity,
        member=member,
        hours=delta,
        source=HoursSource.CORRECTION,
        reason=reason,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    record_event(
        action="activity.hours_corrected",
        actor=actor,
        target=activity,
        unit=activity.unit,
        summary={"member": member.pk, "from": str(current), "to": str(hours), "reason": reason},
    )
    _award(activity, actor)  # the points follow the hours: a correction entry, never an edit
    return entry


def _award(activity: Activity, actor) -> None:
    from hongfeng.points.services import award_activity_points

    award_activity_points(activity=activity, actor=actor)
