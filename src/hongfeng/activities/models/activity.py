"""The activity itself (活动/任务, 5.2.3): its kinds, difficulty and statuses — with what each
status allows, said once — the access choke point, the association's default risk assessment
(5.4.7) and the append-only history of its status."""

import enum
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from hongfeng.activities.models.checkins import CheckInKind
from hongfeng.activities.models.participation import Participation
from hongfeng.members.models import EquipmentKind


class ActivityKind(models.TextChoices):
    RISK_INSPECTION = "risk_inspection", "风险排查"  # 6.2
    MEDIATION = "mediation", "矛盾化解"  # 6.3
    PATROL = "patrol", "巡逻守护"  # 6.4
    CARE = "care", "关爱帮扶"  # 6.5
    PUBLICITY = "publicity", "防范宣传"  # 6.6
    COORDINATED_RESPONSE = "coordinated_response", "协同处置"  # 6.7
    TRAINING = "training", "培训"  # 5.3
    SPECIAL = "special", "专项活动"  # 6.1.2
    SECURITY_DUTY = "security_duty", "安保勤务"  # 5.4.1
    OTHER = "other", "其他"


class Difficulty(models.TextChoices):
    """Task difficulty (5.4.5): one of the inputs of the points formula."""

    NORMAL = "normal", "普通"
    HARDER = "harder", "较难"
    HARD = "hard", "困难"
    HIGH_RISK = "high_risk", "高风险"


class ActivityStatus(models.TextChoices):
    """Where an activity stands. What each status allows is said here once; the pages, the API
    and the services ask `Activity.open_for_signup` / `accepts_checkins` (or these sets in SQL)."""

    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "报名中"
    IN_PROGRESS = "in_progress", "进行中"
    FINISHED = "finished", "已结束"
    EVALUATED = "evaluated", "已评价"
    CANCELLED = "cancelled", "已取消"

    # Sign-up (and a broadcast inviting it) while published or running; the end time closes it
    # too (`ActivityQuerySet.open_for_signup`).
    OPEN_FOR_SIGNUP = enum.nonmember(frozenset({"published", "in_progress"}))
    # Check-in and check-out from publication until the evaluation settles the hours (a finished
    # activity still takes check-outs in the grace period); the time window decides the rest.
    OPEN_FOR_CHECKIN = enum.nonmember(frozenset({"published", "in_progress", "finished"}))


# Which status may follow which (the sweep moves published → in progress → finished by the clock).
STATUS_FLOW: dict[str, frozenset] = {
    ActivityStatus.DRAFT: frozenset({"published", "cancelled"}),
    ActivityStatus.PUBLISHED: frozenset({"in_progress", "finished", "cancelled"}),
    ActivityStatus.IN_PROGRESS: frozenset({"finished", "cancelled"}),
    ActivityStatus.FINISHED: frozenset({"evaluated"}),
    ActivityStatus.EVALUATED: frozenset(),
    ActivityStatus.CANCELLED: frozenset(),
}


class Effect(models.TextChoices):
    """The activity's effect evaluation (6.1.4)."""

    EXCELLENT = "excellent", "显著"
    GOOD = "good", "良好"
    FAIR = "fair", "一般"
    POOR = "poor", "较差"


# Grace after the end: check-out stays open this long, then the sweep checks people out.
CHECKOUT_GRACE = timedelta(minutes=30)
# Check-in opens this long before the start.
CHECKIN_OPENS = timedelta(minutes=30)


class ActivityQuerySet(models.QuerySet):
    def open_for_signup(self, now: datetime):
        """Activities taking sign-ups at `now`: the SQL twin of `Activity.open_for_signup`
        with the end time."""
        return self.filter(status__in=sorted(ActivityStatus.OPEN_FOR_SIGNUP), ends_at__gt=now)

    def visible_to(self, user, capability: str = "activities.view"):
        """The access choke point for activities: those published by a unit in the user's reach
        for `capability`, plus — for a volunteer — published activities whose audience contains
        their unit, and any they signed up for."""
        from hongfeng.accounts.access import scope_q

        q = scope_q(user, capability, "unit")
        if capability == "activities.view":  # leaders also see what is addressed to their units
            q |= scope_q(user, capability, "audience_unit")
        member = own_member(user) if capability == "activities.view" else None
        if member is not None:
            chain = [*member.unit.ancestor_ids(), member.unit_id]
            q |= Q(audience_unit_id__in=chain) & ~Q(status=ActivityStatus.DRAFT)
            q |= Q(pk__in=Participation.objects.filter(member=member).values("activity_id"))
        return self.filter(q)


# A user's member file with its unit: read by own_member, or beside the activity.
_MEMBER_FILE = {"where": "t0.user_id = %s", "related": ("unit",)}


def _member_file_select():
    from hongfeng.core import hotpath
    from hongfeng.members.models import Member

    return hotpath.row_select(Member, **_MEMBER_FILE)


def own_member(user):
    """The user's own member file (一人一档), or None — cached on the user object for the
    request. members.selectors.own_member is the same idea for the pages outside the hot path
    (it adds the member's position)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_hf_member"):
        from hongfeng.core import hotpath
        from hongfeng.members.models import Member

        # read on every volunteer request: SQL built once (see hotpath)
        user._hf_member = hotpath.fetch_one(Member, params=[user.pk], **_MEMBER_FILE)
    return user._hf_member


# The name own_member had before; core/dashboard.py still imports it (it changes there with
# the registries work, then this line goes).
member_file_of = own_member


def activity_and_member_file(user, activity_id: int):
    """(The activity with its two units, or None; the user's member file, or None) — one round
    trip on PostgreSQL when the member file is not read yet (a volunteer opening, joining or
    checking in to an activity: the two reads every such request starts with). The member
    file is kept on the user object as `own_member` keeps it."""
    from hongfeng.core import hotpath

    where, related = "t0.id = %s", ("unit", "audience_unit")
    if hasattr(user, "_hf_member") or not getattr(user, "is_authenticated", False):
        found = hotpath.fetch_one(Activity, where, [activity_id], related=related)
        return found, own_member(user)
    found, user._hf_member = hotpath.fetch_pair(
        hotpath.row_select(Activity, where, related=related),
        [activity_id],
        _member_file_select(),
        [user.pk],
    )
    return found, user._hf_member


class Activity(models.Model):
    """One activity or task: who publishes it, who may join, where and when, how many (5.2.3)."""

    kind = models.CharField("类型", max_length=24, choices=ActivityKind.choices)
    title = models.CharField("标题", max_length=80)
    description = models.TextField("内容", max_length=4000, blank=True)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name="发布单位", on_delete=models.PROTECT, related_name="activities"
    )
    audience_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="面向单位",
        on_delete=models.PROTECT,
        related_name="audience_activities",
        help_text="Members of this unit's subtree may join.",
    )
    core_only = models.BooleanField("仅限核心队员", default=False)
    audience_skills = models.ManyToManyField(
        "members.Skill", verbose_name="面向技能", blank=True, related_name="+"
    )
    audience_categories = models.JSONField("面向人员类别", default=list, blank=True)
    place = models.CharField("地点", max_length=120)
    latitude = models.FloatField("纬度")
    longitude = models.FloatField("经度")
    radius_m = models.PositiveIntegerField("签到范围（米）", default=300)
    starts_at = models.DateTimeField("开始时间", db_index=True)
    ends_at = models.DateTimeField("结束时间", db_index=True)
    capacity = models.PositiveIntegerField("名额")
    waitlist_limit = models.PositiveIntegerField("候补名额", default=50)
    difficulty = models.CharField(
        "难度", max_length=16, choices=Difficulty.choices, default=Difficulty.NORMAL
    )
    required_skills = models.ManyToManyField(
        "members.Skill", verbose_name="所需技能", blank=True, related_name="+"
    )
    required_equipment = models.JSONField("所需装备", default=list, blank=True)
    risk_assessment = models.TextField("安全风险评估", max_length=2000, blank=True)
    # 5.3.1: a 岗前培训 session is how a probationer gets the pre-job training every other task
    # requires, so the pre-job condition does not apply to it (see `requires_pre_job_training`).
    # db_default: rows written outside the ORM (the bench seeder) need no value for it.
    pre_job_training = models.BooleanField("岗前培训", default=False, db_default=False)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=ActivityStatus.choices,
        default=ActivityStatus.DRAFT,
        db_index=True,
    )
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)
    # Counters kept under the activity's row lock: the capacity check reads them, not COUNT(*).
    confirmed_count = models.PositiveIntegerField("已报名", default=0)
    waitlist_count = models.PositiveIntegerField("候补", default=0)
    notified_count = models.PositiveIntegerField("已通知", default=0)
    # Set when the broadcast task has written every notice; the sweep re-queues a broadcast
    # whose worker died before that (the broadcast is idempotent, so a re-run adds nothing twice).
    broadcast_done_at = models.DateTimeField(null=True, blank=True)
    # The sweep's deadline for automatic check-out (ends_at + grace), indexed for the sweep.
    checkout_due_at = models.DateTimeField(db_index=True)
    checkouts_swept_at = models.DateTimeField(null=True, blank=True)
    effect = models.CharField("活动成效", max_length=16, choices=Effect.choices, blank=True)
    effect_summary = models.TextField("成效评估", max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["audience_unit", "status"], name="activities_audience"),
            models.Index(fields=["unit", "-starts_at"], name="activities_unit_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="activities_ends_after_start",
                violation_error_message="结束时间必须晚于开始时间。",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=100000),
                name="activities_capacity_range",
                violation_error_message="名额须在 1 到 100000 之间。",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_count__lte=F("capacity")),
                name="activities_not_over_capacity",
                violation_error_message="报名人数不能超过名额。",
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="activities_coordinates_range",
                violation_error_message="坐标超出范围。",
            ),
            models.CheckConstraint(
                condition=Q(radius_m__gte=20) & Q(radius_m__lte=5000),
                name="activities_radius_range",
                violation_error_message="签到范围须在 20 到 5000 米之间。",
            ),
            models.CheckConstraint(
                condition=Q(pre_job_training=False) | Q(kind=ActivityKind.TRAINING),
                name="activities_pre_job_is_training",
                violation_error_message="只有培训类活动可以标记为岗前培训。",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_high_risk(self) -> bool:
        return self.difficulty == Difficulty.HIGH_RISK

    @property
    def requires_pre_job_training(self) -> bool:
        """5.3.1 *Decision*: no task before pre-job training — except the pre-job training
        itself, which a probationer must be able to receive and join."""
        return not self.pre_job_training

    @property
    def spots_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def is_full(self) -> bool:
        """No place left, not even on the waitlist (from the row's counters)."""
        return self.confirmed_count >= self.capacity and self.waitlist_count >= self.waitlist_limit

    @property
    def duration_hours(self) -> Decimal:
        return Decimal((self.ends_at - self.starts_at).total_seconds() / 3600).quantize(
            Decimal("0.01")
        )

    def required_equipment_labels(self) -> list[str]:
        return [EquipmentKind(k).label for k in self.required_equipment]

    def can_become(self, status: str) -> bool:
        return status in STATUS_FLOW[self.status]

    @property
    def open_for_signup(self) -> bool:
        """The status takes sign-ups (the end time closes them as well: `sign_up` and
        `ActivityQuerySet.open_for_signup` ask both)."""
        return self.status in ActivityStatus.OPEN_FOR_SIGNUP

    @property
    def accepts_checkins(self) -> bool:
        """The status takes check-ins and check-outs (within `checkin_window`)."""
        return self.status in ActivityStatus.OPEN_FOR_CHECKIN

    @property
    def checkin_opens_at(self) -> datetime:
        return self.starts_at - CHECKIN_OPENS

    @property
    def checkout_closes_at(self) -> datetime:
        return self.ends_at + CHECKOUT_GRACE

    def checkin_window(self, kind: str) -> tuple[datetime, datetime]:
        """When a check-in (until the end) or a check-out (until the grace after it) counts."""
        closes = self.ends_at if kind == CheckInKind.IN else self.checkout_closes_at
        return self.checkin_opens_at, closes


class RiskAssessmentDefault(models.Model):
    """An association's default safety risk assessment for one kind of activity (5.4.7: every
    activity has one). It pre-fills the publish form and is used when an API client sends none;
    the text used is stored on the activity. The nearest association up the tree wins, else a
    built-in text (services.risk). Edits are audited; `version` refuses a stale form."""

    association = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="risk_assessment_defaults"
    )
    kind = models.CharField("活动类型", max_length=24, choices=ActivityKind.choices)
    text = models.TextField("安全风险评估", max_length=2000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "安全风险评估模板"
        verbose_name_plural = "安全风险评估模板"
        constraints = [
            models.UniqueConstraint(
                fields=["association", "kind"],
                name="risk_default_once_per_kind",
                violation_error_message="该协会已有此类活动的风险评估模板。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.association_id} {self.kind}"


class ActivityStatusChange(models.Model):
    """Append-only history of an activity's status."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, choices=ActivityStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ActivityStatus.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.from_status} → {self.to_status}"
