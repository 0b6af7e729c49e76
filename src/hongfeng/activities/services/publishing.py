"""Publishing activities (5.2.3) with their safety risk assessment (5.4.7): create, edit,
publish (which queues the broadcast: broadcast.py), cancel, and the status transitions."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.access import Reach
from hongfeng.activities.geo import valid_coordinates
from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    STATUS_FLOW,
    Activity,
    ActivityKind,
    ActivityStatus,
    ActivityStatusChange,
    Difficulty,
    activity_and_member_file,
)
from hongfeng.activities.services.broadcast import queue_broadcast
from hongfeng.activities.services.risk import RISK_TEXT_MAX, default_risk_assessment
from hongfeng.audit.services import record_event
from hongfeng.core import hotpath
from hongfeng.core.errors import DomainError, NotFound, check_version
from hongfeng.members.models import Category, EquipmentKind, Skill
from hongfeng.orgs.models import ASSOCIATION_KINDS, POLICE_KINDS, Unit, UnitKind

__all__ = [
    "ActivityData",
    "cancel_activity",
    "create_activity",
    "get_activity_for_user",
    "publish_activity",
    "require_visible",
    "transition",
    "update_activity",
]

# Who may publish: associations, bureaus, stations, teams and squads (not a group).
PUBLISHER_KINDS = ASSOCIATION_KINDS | POLICE_KINDS | {UnitKind.TEAM, UnitKind.SQUAD}
MAX_DURATION = timedelta(days=7)


def get_activity_for_user(user, activity_id, capability: str = "activities.view") -> Activity:
    """The activity if the user may see it for `capability`, else NotFound (404).

    The common case on the hot path (a volunteer opening, joining or checking in to an activity
    addressed to their unit) is decided from the member's path without compiling the full
    `visible_to` filter; everything else asks `visible_to` — the same rule either way."""
    activity_id = access.parse_id(activity_id)
    if capability == "activities.view":
        activity, member = activity_and_member_file(user, activity_id)
    else:
        activity = hotpath.fetch_one(
            Activity, "t0.id = %s", [activity_id], related=("unit", "audience_unit")
        )
        member = None
    return require_visible(user, activity, member, capability)


def require_visible(user, activity: Activity | None, member, capability="activities.view"):
    """`activity` (read with its two units; None: no such activity) if the user may see it for
    `capability`, else NotFound; `member`: the user's member file as read with it, or None."""
    if activity is None:
        raise NotFound()
    if (
        member is not None
        and activity.status != ActivityStatus.DRAFT
        and member.unit.path.startswith(activity.audience_unit.path)
    ):
        return activity
    if not Activity.objects.visible_to(user, capability).filter(pk=activity.pk).exists():
        raise NotFound()
    return activity


@dataclass
class ActivityData:
    """What an organiser fills in (validated by `_clean`)."""

    kind: str
    title: str
    place: str
    latitude: float
    longitude: float
    starts_at: datetime
    ends_at: datetime
    capacity: int
    description: str = ""
    radius_m: int = 300
    waitlist_limit: int = 50
    difficulty: str = Difficulty.NORMAL
    core_only: bool = False
    audience_skills: list[str] = field(default_factory=list)
    audience_categories: list[str] = field(default_factory=list)
    required_skills: list[str] = field(default_factory=list)
    required_equipment: list[str] = field(default_factory=list)
    # None: the default for the kind (services.risk) — on an edit, the text the activity has.
    risk_assessment: str | None = None
    pre_job_training: bool = False


def _text(value: str, limit: int, name: str, *, required: bool = True) -> str:
    text = " ".join((value or "").split()) if limit <= 200 else (value or "").strip()
    if required and not text:
        raise DomainError("此项必填。", code="required", field=name)
    if len(text) > limit:
        raise DomainError(f"内容过长（最多{limit}字）。", code="too_long", field=name)
    return text


def _skills(codes: list[str], name: str) -> list[Skill]:
    codes = list(dict.fromkeys(codes))
    found = {s.code: s for s in Skill.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(f"未知的技能：{'、'.join(unknown)}。", code="unknown_skill", field=name)
    return [found[c] for c in codes]


def _clean(data: ActivityData) -> tuple[ActivityData, list[Skill], list[Skill]]:
    if data.kind not in ActivityKind.values:
        raise DomainError("未知的活动类型。", code="invalid_choice", field="kind")
    if data.difficulty not in Difficulty.values:
        raise DomainError("未知的难度。", code="invalid_choice", field="difficulty")
    data.title = _text(data.title, 80, "title")
    data.place = _text(data.place, 120, "place")
    data.description = _text(data.description, 4000, "description", required=False)
    if data.risk_assessment is not None:
        data.risk_assessment = _text(
            data.risk_assessment, RISK_TEXT_MAX, "risk_assessment", required=False
        )
    if data.pre_job_training and data.kind != ActivityKind.TRAINING:
        raise DomainError(
            "只有培训类活动可以标记为岗前培训。",
            code="pre_job_not_training",
            field="pre_job_training",
        )
    if not valid_coordinates(data.latitude, data.longitude):
        raise DomainError(
            "坐标超出范围（纬度 -90~90，经度 -180~180）。",
            code="invalid_coordinates",
            field="latitude",
        )
    if not 20 <= data.radius_m <= 5000:
        raise DomainError(
            "签到范围须在 20 到 5000 米之间。", code="invalid_radius", field="radius_m"
        )
    if timezone.is_naive(data.starts_at) or timezone.is_naive(data.ends_at):
        raise DomainError("时间须带时区。", code="invalid_time", field="starts_at")
    if data.ends_at <= data.starts_at:
        raise DomainError("结束时间必须晚于开始时间。", code="ends_before_start", field="ends_at")
    if data.ends_at - data.starts_at > MAX_DURATION:
        raise DomainError(
            "一次活动最长 7 天，更长的请分次发布。", code="too_long_duration", field="ends_at"
        )
    if not 1 <= data.capacity <= 100000:
        raise DomainError("名额须在 1 到 100000 之间。", code="invalid_capacity", field="capacity")
    if not 0 <= data.waitlist_limit <= 100000:
        raise DomainError(
            "候补名额须在 0 到 100000 之间。", code="invalid_capacity", field="waitlist_limit"
        )
    bad = [c for c in data.audience_categories if c not in Category.values]
    if bad:
        raise DomainError("未知的人员类别。", code="invalid_choice", field="audience_categories")
    bad = [k for k in data.required_equipment if k not in EquipmentKind.values]
    if bad:
        raise DomainError("未知的装备类型。", code="invalid_choice", field="required_equipment")
    data.audience_categories = list(dict.fromkeys(data.audience_categories))
    data.required_equipment = list(dict.fromkeys(data.required_equipment))
    audience_skills = _skills(data.audience_skills, "audience_skills")
    required_skills = _skills(data.required_skills, "required_skills")
    return data, audience_skills, required_skills


def _check_units(actor, unit: Unit, audience: Unit) -> None:
    """The publisher is a unit in the actor's reach that may publish; the audience lies in the
    publisher's subtree, or — for a bureau or station — among the teams it guides (属地管理)."""
    access.require(actor, "activities.manage", unit, "您无权以该单位名义发布活动。")
    if unit.kind not in PUBLISHER_KINDS:
        raise DomainError(
            "小组不能单独发布活动，请以分队或总队名义发布。", code="invalid_publisher", field="unit"
        )
    if unit.is_archived or audience.is_archived:
        raise DomainError("该单位已归档。", code="unit_archived", field="audience_unit")
    reach = Reach.GUIDED if unit.kind in POLICE_KINDS else Reach.SUBTREE
    if not Unit.objects.filter(access.reach_q(reach, unit), pk=audience.pk).exists():
        raise DomainError(
            "面向单位须是发布单位本身或其下级（派出所、公安机关可面向其指导的总队）。",
            code="audience_out_of_reach",
            field="audience_unit",
        )
    access.require(actor, "activities.manage", audience, "您无权面向该单位发布活动。")


@transaction.atomic
def create_activity(
    *, actor, unit: Unit, audience_unit: Unit | None, data: ActivityData
) -> Activity:
    """Save a draft (5.2.3). Publishing is a separate step with its own checks."""
    audience_unit = audience_unit or unit
    _check_units(actor, unit, audience_unit)
    data, audience_skills, required_skills = _clean(data)
    if data.risk_assessment is None:
        data.risk_assessment = default_risk_assessment(unit=audience_unit, kind=data.kind)
    activity = Activity.objects.create(
        unit=unit,
        audience_unit=audience_unit,
        created_by=actor,
        checkout_due_at=data.ends_at + CHECKOUT_GRACE,
        **_plain(data),
    )
    activity.audience_skills.set(audience_skills)
    activity.required_skills.set(required_skills)
    ActivityStatusChange.objects.create(
        activity=activity,
        to_status=ActivityStatus.DRAFT,
        changed_by=actor,
        changed_at=timezone.now(),
    )
    record_event(
        action="activity.created",
        actor=actor,
        target=activity,
        unit=unit,
        summary={"kind": data.kind},
    )
    return activity


def _plain(data: ActivityData) -> dict:
    skip = {"audience_skills", "required_skills"}
    return {k: v for k, v in data.__dict__.items() if k not in skip}


@transaction.atomic
def update_activity(
    *,
    actor,
    activity: Activity,
    audience_unit: Unit | None,
    data: ActivityData,
    expected_version: int | None = None,
) -> Activity:
    """Edit a draft, or a published activity before it starts. Capacity never drops below the
    people already confirmed; published changes are told to them."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权修改该活动。")
    check_version(activity, expected_version)
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        raise DomainError("活动已开始或已结束，不能再修改。", code="not_editable")
    audience_unit = audience_unit or activity.audience_unit
    _check_units(actor, activity.unit, audience_unit)
    data, audience_skills, required_skills = _clean(data)
    if data.risk_assessment is None:
        data.risk_assessment = activity.risk_assessment or default_risk_assessment(
            unit=audience_unit, kind=data.kind
        )
    if data.capacity < activity.confirmed_count:
        raise DomainError(
            f"已有 {activity.confirmed_count} 人报名，名额不能少于此数。",
            code="capacity_below_confirmed",
            field="capacity",
        )
    if activity.status == ActivityStatus.PUBLISHED:
        _check_publishable(activity, data)
    Activity.objects.filter(pk=activity.pk).update(
        audience_unit=audience_unit,
        checkout_due_at=data.ends_at + CHECKOUT_GRACE,
        version=activity.version + 1,
        **_plain(data),
    )
    activity.refresh_from_db()
    activity.audience_skills.set(audience_skills)
    activity.required_skills.set(required_skills)
    record_event(action="activity.updated", actor=actor, target=activity, unit=activity.unit)
    from hongfeng.activities.services.signups import promote_waitlist

    if promote_waitlist(activity):  # more places: the waitlist moves up at once
        activity.refresh_from_db()
    return activity


def _check_publishable(activity: Activity, data=None) -> None:
    """5.4.7: every activity has a safety risk assessment before it is published (the form and
    the API fill in the association's default, so only a deliberately emptied one is refused)."""
    source = data or activity
    if not (source.risk_assessment or "").strip():
        high_risk = source.difficulty == Difficulty.HIGH_RISK
        raise DomainError(
            "高风险活动须先填写安全风险评估（5.4.7）后才能发布。"
            if high_risk
            else "发布前须填写安全风险评估（5.4.7）：写明主要风险和防护措施。",
            code="risk_assessment_required",
            field="risk_assessment",
        )
    if source.ends_at <= timezone.now():
        raise DomainError("活动结束时间已过，不能发布。", code="activity_in_past", field="ends_at")


def transition(*, activity: Activity, to: str, actor=None, reason: str = "") -> bool:
    """Move the activity to `to` if it is still in a status that may precede it (a conditional
    update, so the sweep and an organiser racing each other are harmless). Appends history."""
    sources = [s for s, targets in STATUS_FLOW.items() if to in targets]
    moved = Activity.objects.filter(pk=activity.pk, status__in=sources).update(status=to)
    if not moved:
        return False
    ActivityStatusChange.objects.create(
        activity=activity,
        from_status=activity.status,
        to_status=to,
        reason=reason,
        changed_by=actor,
        changed_at=timezone.now(),
    )
    activity.status = to
    return True


@transaction.atomic
def publish_activity(*, actor, activity: Activity) -> Activity:
    """Publish a draft and broadcast it to every eligible member (4.5 一呼百应) — the notices are
    written by a background task after the commit."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权发布该活动。")
    if activity.status != ActivityStatus.DRAFT:
        raise DomainError("只有草稿可以发布。", code="not_draft")
    _check_publishable(activity)
    transition(activity=activity, to=ActivityStatus.PUBLISHED, actor=actor)
    Activity.objects.filter(pk=activity.pk).update(published_at=timezone.now())
    activity.refresh_from_db()
    record_event(action="activity.published", actor=actor, target=activity, unit=activity.unit)
    queue_broadcast(activity.pk)
    return activity


@transaction.atomic
def cancel_activity(*, actor, activity: Activity, reason: str) -> Activity:
    """Cancel with a reason; everyone signed up or waiting is told (inbox and outside channels)."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    access.require(actor, "activities.manage", activity.unit, "您无权取消该活动。")
    reason = _text(reason, 200, "reason")
    if not activity.can_become(ActivityStatus.CANCELLED):
        raise DomainError("该活动已结束或已取消，不能取消。", code="not_cancellable")
    was_draft = activity.status == ActivityStatus.DRAFT
    transition(activity=activity, to=ActivityStatus.CANCELLED, actor=actor, reason=reason)
    Activity.objects.filter(pk=activity.pk).update(cancel_reason=reason)
    activity.refresh_from_db()
    record_event(
        action="activity.cancelled",
        actor=actor,
        target=activity,
        unit=activity.unit,
        summary={"reason": reason},
    )
    if not was_draft:
        from hongfeng.activities.tasks import tell_cancellation

        transaction.on_commit(lambda: tell_cancellation.enqueue(activity.pk))
    return activity
