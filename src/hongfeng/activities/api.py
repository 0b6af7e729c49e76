"""Activities over the API (5.2.3, 5.2.9): publish, sign up, check in (online and offline
batches), review, rate, evaluate, correct hours, and the monthly 公示. Sign-up and check-in
writes accept an `Idempotency-Key` header (check-ins also a client-generated `client_id`)."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from hongfeng.accounts import access
from hongfeng.activities import qr, selectors, services
from hongfeng.activities.idempotency import run_idempotent
from hongfeng.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AttendanceNotice,
    CheckIn,
    CheckInKind,
    Difficulty,
    Effect,
    Participation,
    ParticipationStatus,
    Quality,
    ReviewDecision,
)
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import DomainError
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter, MeRoute
from hongfeng.members.models import Category, EquipmentKind
from hongfeng.members.selectors import get_member_for_user, names_shown_to
from hongfeng.notices import services as notices
from hongfeng.orgs.api import ERRORS, ErrorOut, UnitRef

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
ping_router = Router()
activities_router = Router()
checkins_router = Router()
attendance_router = Router()
my_activities_router = Router()
inbox_router = Router()
TAGS = ("活动与签到",)
API_ROUTERS = [
    ApiRouter("/ping", ping_router, TAGS),
    ApiRouter("/activities", activities_router, TAGS),
    ApiRouter("/checkins", checkins_router, TAGS),
    ApiRouter("/attendance-notices", attendance_router, TAGS),
]
# The caller's own, under /api/v1/me (hongfeng.core.me).
ME_ROUTES = [
    MeRoute("/activities", my_activities_router, TAGS),
    MeRoute("/inbox", inbox_router, TAGS),
]
public_router = Router()
PUBLIC_ROUTER = ApiRouter("/public/attendance", public_router, ("公开公示",))


class ActivityIn(Schema):
    kind: ActivityKind
    title: Text = Field(..., max_length=80)
    description: Text = Field("", max_length=4000)
    unit_id: Id = Field(..., description="发布单位（协会、公安机关、派出所、总队或分队）")
    audience_unit_id: Id | None = Field(None, description="面向单位（默认为发布单位）")
    place: Text = Field(..., max_length=120)
    latitude: float = Field(..., ge=-90, le=90)
    longitude: float = Field(..., ge=-180, le=180)
    radius_m: int = Field(300, ge=20, le=5000, description="签到地理围栏半径（米）")
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(..., ge=1, le=100000)
    waitlist_limit: int = Field(50, ge=0, le=100000)
    difficulty: Difficulty = Difficulty.NORMAL
    core_only: bool = False
    audience_skills: list[Text] = Field(default_factory=list, max_length=20)
    audience_categories: list[Category] = Field(default_factory=list, max_length=10)
    required_skills: list[Text] = Field(default_factory=list, max_length=20)
    required_equipment: list[EquipmentKind] = Field(default_factory=list, max_length=10)
    risk_assessment: Text | None = Field(
        None,
        max_length=2000,
        description="安全风险评估（5.4.7，发布前必填）。不传：使用协会为该类活动设定的默认评估"
        "（修改时保留原有内容）；传空字符串则发布时被拒绝（risk_assessment_required）。",
    )
    pre_job_training: bool = Field(
        False, description="岗前培训（仅培训类活动，5.3.1）：未完成岗前培训的见习队员也可报名"
    )


class ActivityUpdate(ActivityIn):
    version: int | None = Field(None, ge=1, description="乐观锁：读取时的版本号")


class ActivityListItem(Schema):
    id: int
    kind: ActivityKind
    kind_label: str
    title: str
    unit: UnitRef
    place: str
    starts_at: datetime
    ends_at: datetime
    status: ActivityStatus
    status_label: str
    difficulty: Difficulty
    difficulty_label: str
    capacity: int
    confirmed_count: int
    waitlist_count: int
    pre_job_training: bool
    distance_m: float | None = None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_difficulty_label(obj) -> str:
        return obj.get_difficulty_display()

    @staticmethod
    def resolve_unit(obj):
        return {"id": obj.unit.pk, "name": obj.unit.name, "kind": obj.unit.kind}

    @staticmethod
    def resolve_distance_m(obj):
        return getattr(obj, "distance_m", None)


class ActivityOut(ActivityListItem):
    description: str
    audience_unit: UnitRef
    latitude: float
    longitude: float
    radius_m: int
    waitlist_limit: int
    notified_count: int
    core_only: bool
    audience_skills: list[str]
    audience_categories: list[str]
    required_skills: list[str]
    required_equipment: list[str]
    risk_assessment: str
    cancel_reason: str
    effect: str
    effect_summary: str
    version: int
    can_manage: bool
    my_status: ParticipationStatus | None = None

    @staticmethod
    def resolve_audience_unit(obj):
        u = obj.audience_unit
        return {"id": u.pk, "name": u.name, "kind": u.kind}

    @staticmethod
    def resolve_audience_skills(obj):
        return [s.code for s in obj.audience_skills.all()]

    @staticmethod
    def resolve_required_skills(obj):
        return [s.code for s in obj.required_skills.all()]

    @staticmethod
    def resolve_can_manage(obj, context) -> bool:
        return selectors.can_manage(context["request"].user, obj)

    @staticmethod
    def resolve_my_status(obj, context):
        own = selectors.my_participation(context["request"].user, obj)
        return own.status if own else None


def _data(payload: ActivityIn) -> services.ActivityData:
    fields = payload.dict(exclude={"unit_id", "audience_unit_id", "version"})
    fields["kind"] = str(payload.kind)
    fields["difficulty"] = str(payload.difficulty)
    fields["audience_categories"] = [str(c) for c in payload.audience_categories]
    fields["required_equipment"] = [str(k) for k in payload.required_equipment]
    return services.ActivityData(**fields)


def _audience(request, payload: ActivityIn):
    if payload.audience_unit_id is None:
        return None
    return access.get_unit_for_user(request.user, payload.audience_unit_id)


def _detail(request, activity_id: int) -> Activity:
    return services.get_activity_for_user(request.user, activity_id)


def _managed(request, activity_id: int) -> Activity:
    activity = services.get_activity_for_user(request.user, activity_id)
    access.require(request.user, "activities.manage", activity.unit, "您无权管理该活动。")
    return activity


class PingOut(Schema):
    ok: bool
    user_id: int


@ping_router.get("", response={200: PingOut, **ERRORS})
def ping(request):
    """An authenticated request that does nothing else — the benchmark's baseline."""
    return {"ok": True, "user_id": request.user.pk}


@activities_router.get("", response=list[ActivityListItem])
@paginate(Pagination)
def list_activities(
    request,
    status: ActivityStatus | None = None,
    kind: ActivityKind | None = None,
    unit_id: Id | None = None,
    manage: bool = Query(False, description="只看我可以管理的活动"),
    upcoming: bool = Query(False, description="只看报名中和进行中的活动，按开始时间排序"),
    near_lat: float | None = Query(None, ge=-90, le=90, description="附近的活动：纬度"),
    near_lon: float | None = Query(None, ge=-180, le=180, description="附近的活动：经度"),
):
    """Activities the caller may see: published by units in their scope, addressed to their
    units, or joined by them. With near_lat/near_lon: open activities nearest first."""
    unit = access.get_unit_for_user(request.user, unit_id) if unit_id else None
    rows = selectors.activities_for(
        request.user, status=status, kind=kind, unit=unit, manage=manage, upcoming=upcoming
    )
    if near_lat is not None and near_lon is not None:
        ranked = selectors.near(rows.filter(status__in=selectors.UPCOMING), near_lat, near_lon)
        for activity, distance in ranked:
            activity.distance_m = round(distance)
        return [activity for activity, _ in ranked]
    return rows


@activities_router.post("", response={201: ActivityOut, **ERRORS})
def create_activity(request, payload: ActivityIn):
    """Save a draft activity (publish it with POST /activities/{id}/publish)."""
    unit = access.get_unit_for_user(request.user, payload.unit_id)
    activity = services.create_activity(
        actor=request.user,
        unit=unit,
        audience_unit=_audience(request, payload),
        data=_data(payload),
    )
    return Status(201, _detail(request, activity.pk))


@activities_router.get("/{activity_id}", response={200: ActivityOut, **ERRORS})
def get_activity(request, activity_id: Id):
    return _detail(request, activity_id)


@activities_router.put("/{activity_id}", response={200: ActivityOut, **ERRORS})
def update_activity(request, activity_id: Id, payload: ActivityUpdate):
    """Edit a draft, or a published activity before it starts."""
    activity = _managed(request, activity_id)
    services.update_activity(
        actor=request.user,
        activity=activity,
        audience_unit=_audience(request, payload),
        data=_data(payload),
        expected_version=payload.version,
    )
    return _detail(request, activity_id)


@activities_router.post("/{activity_id}/publish", response={200: ActivityOut, **ERRORS})
def publish(request, activity_id: Id):
    """Publish and broadcast to every eligible member (一呼百应)."""
    services.publish_activity(actor=request.user, activity=_managed(request, activity_id))
    return _detail(request, activity_id)


class ActivityReasonIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=200)


@activities_router.post("/{activity_id}/cancel", response={200: ActivityOut, **ERRORS})
def cancel(request, activity_id: Id, payload: ActivityReasonIn):
    """Cancel with a reason; participants are told."""
    services.cancel_activity(
        actor=request.user, activity=_managed(request, activity_id), reason=payload.reason
    )
    return _detail(request, activity_id)


@activities_router.post("/{activity_id}/finish", response={200: ActivityOut, **ERRORS})
def finish(request, activity_id: Id):
    """End the activity now (the clock ends it anyway at its end time)."""
    services.finish_activity(actor=request.user, activity=_managed(request, activity_id))
    return _detail(request, activity_id)


class ReasonOut(Schema):
    code: str
    message: str


class EligibilityOut(Schema):
    eligible: bool
    reasons: list[ReasonOut]


@activities_router.get("/{activity_id}/eligibility", response={200: EligibilityOut, **ERRORS})
def eligibility(request, activity_id: Id):
    """Whether the caller may join, and exactly which conditions fail."""
    reasons = services.eligibility_of(request.user, _detail(request, activity_id))
    return {"eligible": not reasons, "reasons": [r.__dict__ for r in reasons]}


class ParticipationOut(Schema):
    id: int
    activity_id: int
    status: ParticipationStatus
    status_label: str
    queued_at: datetime
    waitlist_position: int | None = None


def _participation_body(participation: Participation) -> dict:
    position = None
    if participation.status == ParticipationStatus.WAITLISTED:
        position = Participation.objects.filter(
            activity_id=participation.activity_id,
            status=ParticipationStatus.WAITLISTED,
            queued_at__lte=participation.queued_at,
        ).count()
    return ParticipationOut(
        id=participation.pk,
        activity_id=participation.activity_id,
        status=participation.status,
        status_label=participation.get_status_display(),
        queued_at=participation.queued_at,
        waitlist_position=position,
    ).model_dump(mode="json")


class SignUpErrorOut(ErrorOut):
    reasons: list[ReasonOut] | None = None


SIGNUP_ERRORS = {**ERRORS, 422: SignUpErrorOut}


def _idempotent(request, run):
    """Run a write once per Idempotency-Key and answer with its body. The body was built
    through its response schema (`..._body`), so it is rendered as it is, not validated a
    second time (on the sign-up and check-in hot path); a replayed answer says so in the
    `Idempotent-Replayed` header."""
    from hongfeng.api import api

    status, body, replayed = run_idempotent(request, run)
    response = api.create_response(request, body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@activities_router.post("/{activity_id}/signup", response={200: ParticipationOut, **SIGNUP_ERRORS})
def sign_up(request, activity_id: Id):
    """Join (or join the waitlist). Idempotent: signing up again returns the same place; send
    an `Idempotency-Key` header to make retries of any answer safe."""
    activity = _detail(request, activity_id)
    return _idempotent(
        request,
        lambda: (200, _participation_body(services.sign_up(user=request.user, activity=activity))),
    )


@activities_router.post("/{activity_id}/signup/cancel", response={200: ParticipationOut, **ERRORS})
def cancel_sign_up(request, activity_id: Id):
    """Withdraw before the start; the first person waiting takes the place."""
    activity = _detail(request, activity_id)
    return _idempotent(
        request,
        lambda: (
            200,
            _participation_body(services.cancel_sign_up(user=request.user, activity=activity)),
        ),
    )


@activities_router.post("/{activity_id}/decline", response={200: ParticipationOut, **ERRORS})
def decline(request, activity_id: Id):
    """Answer the broadcast with "no"."""
    activity = _detail(request, activity_id)
    return _participation_body(services.decline(user=request.user, activity=activity))


class CountsOut(Schema):
    notified: int
    confirmed: int
    waitlisted: int
    declined: int
    cancelled: int
    checked_in: int
    flagged: int
    capacity: int


@activities_router.get("/{activity_id}/counts", response={200: CountsOut, **ERRORS})
def counts(request, activity_id: Id):
    """The organiser's live count: notified, answered, checked in, flagged."""
    activity = _managed(request, activity_id)
    return {**selectors.live_counts(activity), "capacity": activity.capacity}


class ParticipantOut(Schema):
    member_id: int
    name: str
    unit: str
    status: ParticipationStatus
    status_label: str
    queued_at: datetime
    quality: str
    hours: Decimal


@activities_router.get(
    "/{activity_id}/participants", response={200: list[ParticipantOut], **ERRORS}
)
def participants(request, activity_id: Id):
    """Who signed up and who waits, with hours so far and ratings. Names are masked except
    for the team's own leaders over the member (members.selectors.names_shown_to)."""
    activity = _managed(request, activity_id)
    hours = services.hours_by_member(activity)
    name = names_shown_to(request.user)
    return [
        {
            "member_id": p.member_id,
            "name": name(p.member),
            "unit": p.member.unit.name,
            "status": p.status,
            "status_label": p.get_status_display(),
            "queued_at": p.queued_at,
            "quality": p.quality,
            "hours": hours.get(p.member_id, Decimal("0")),
        }
        for p in selectors.participants(activity)
    ]


class QrOut(Schema):
    token: str
    expires_at: int = Field(..., description="Unix 时间：此码停止展示的时刻")
    window_seconds: int


@activities_router.get("/{activity_id}/qr", response={200: QrOut, **ERRORS})
def qr_code(request, activity_id: Id):
    """The rotating check-in code for the organiser's phone (a new one every 30 s)."""
    activity = _managed(request, activity_id)
    now = timezone.now()
    return {
        "token": qr.token_for(activity.pk, now),
        "expires_at": qr.expires_at(now),
        "window_seconds": qr.WINDOW_SECONDS,
    }


class CheckInIn(BaseModel):
    """A check-in's body. A plain pydantic model, not a ninja Schema: a Schema wraps its input
    for reading ORM objects, which a request body never is, at a cost the check-in hot path
    notices."""

    kind: CheckInKind
    client_id: uuid.UUID = Field(..., description="手机端生成的 UUID：重试不会重复记录")
    device_time: datetime | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100000)
    qr_token: Text = Field("", max_length=120)
    allow_review: bool = Field(False, description="不在范围内时仍提交，由组织者审核")


class CheckInOut(Schema):
    id: int
    activity_id: int
    kind: CheckInKind
    method: str
    method_label: str
    client_id: uuid.UUID
    at: datetime
    offline: bool
    distance_m: float | None
    accuracy_m: float | None
    flags: list[str]
    flag_labels: list[str]
    flagged: bool


def _checkin_body(checkin: CheckIn) -> dict:
    """`CheckInOut`'s JSON for a record, built directly: the record's values already have the
    schema's types, and on the check-in hot path constructing and dumping the model cost ~5 %
    of the request (python -m bench, a2). A test holds it equal to the schema's own dump."""
    return to_jsonable_python(
        {
            "id": checkin.pk,
            "activity_id": checkin.activity_id,
            "kind": checkin.kind,
            "method": checkin.method,
            "method_label": checkin.get_method_display(),
            "client_id": checkin.client_id,
            "at": checkin.at,
            "offline": checkin.offline,
            "distance_m": checkin.distance_m,
            "accuracy_m": checkin.accuracy_m,
            "flags": checkin.flags,
            "flag_labels": checkin.flag_labels(),
            "flagged": checkin.flagged,
        }
    )


def _checkin_data(payload) -> services.CheckInData:
    return services.CheckInData(
        kind=str(payload.kind),
        client_id=payload.client_id,
        device_time=payload.device_time,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
        qr_token=payload.qr_token,
        allow_review=payload.allow_review,
    )


@activities_router.post(
    "/{activity_id}/checkins", response={200: CheckInOut, 201: CheckInOut, **ERRORS}
)
def check_in(request, activity_id: Id, payload: CheckInIn):
    """Check in or out by GPS (inside the geofence) or by the organiser's rotating code. 201 for
    a new record, 200 for a retry of one already stored (same client_id)."""

    def run():
        # the activity is read (and its visibility judged) with the place: one round trip
        checkin, created = services.check_in_by_id(
            user=request.user, activity_id=activity_id, data=_checkin_data(payload)
        )
        return (201 if created else 200), _checkin_body(checkin)

    return _idempotent(request, run)


class OfflineItem(CheckInIn):
    activity_id: Id


class OfflineBatchIn(Schema):
    sent_at: datetime = Field(..., description="发送时手机的时间（用于校正设备时钟）")
    items: list[OfflineItem] = Field(..., min_length=1, max_length=200)


class OfflineResult(Schema):
    client_id: uuid.UUID
    ok: bool
    created: bool
    checkin: CheckInOut | None = None
    error: ErrorOut | None = None


@checkins_router.post("/sync", response={200: list[OfflineResult], **ERRORS})
def sync_offline(request, payload: OfflineBatchIn):
    """A batch queued while offline. Each record gets its own answer: stored (created), already
    stored (a re-sync), or refused with a code — nothing is dropped without an answer."""
    items, refused = [], []
    for item in payload.items:
        try:
            activity = services.get_activity_for_user(request.user, item.activity_id)
        except DomainError as error:
            refused.append(
                {
                    "client_id": item.client_id,
                    "ok": False,
                    "created": False,
                    "error": error.as_dict(),
                }
            )
            continue
        items.append((activity, _checkin_data(item)))
    results = services.sync_offline(user=request.user, sent_at=payload.sent_at, items=items)
    answers = [
        {
            "client_id": r.client_id,
            "ok": r.error is None,
            "created": r.created,
            "checkin": _checkin_body(r.checkin) if r.checkin else None,
            "error": r.error.as_dict() if r.error else None,
        }
        for r in results
    ]
    return answers + refused


class ManualCheckInIn(Schema):
    member_id: Id
    kind: CheckInKind
    at: datetime | None = None
    reason: Text = Field(..., min_length=1, max_length=200)
    client_id: uuid.UUID | None = None


@activities_router.post(
    "/{activity_id}/checkins/manual",
    response={200: CheckInOut, 201: CheckInOut, **ERRORS},
)
def manual_check_in(request, activity_id: Id, payload: ManualCheckInIn):
    """The organiser records a check-in or check-out for a participant, with a reason."""
    activity = _managed(request, activity_id)
    member = get_member_for_user(request.user, payload.member_id, "members.view")
    checkin, created = services.manual_check_in(
        actor=request.user,
        activity=activity,
        member=member,
        kind=str(payload.kind),
        at=payload.at,
        reason=payload.reason,
        client_id=payload.client_id,
    )
    return Status(201 if created else 200, _checkin_body(checkin))


class CheckInRow(CheckInOut):
    member_id: int
    member_name: str
    review: str | None = None


@activities_router.get("/{activity_id}/checkins", response={200: list[CheckInRow], **ERRORS})
def list_checkins(request, activity_id: Id, flagged: bool | None = None):
    """Every check-in record of the activity, optionally only flagged ones (names as in
    `participants`)."""
    activity = _managed(request, activity_id)
    name = names_shown_to(request.user)
    rows = []
    for c in selectors.checkins_of(activity, flagged=flagged)[:2000]:
        reviews = list(c.reviews.all())
        rows.append(
            {
                **_checkin_body(c),
                "member_id": c.member_id,
                "member_name": name(c.member),
                "review": reviews[-1].decision if reviews else None,
            }
        )
    return rows


class ReviewIn(Schema):
    decision: ReviewDecision
    reason: Text = Field(..., min_length=1, max_length=200)


class ReviewOut(Schema):
    id: int
    checkin_id: int
    decision: ReviewDecision
    reason: str
    reviewed_at: datetime


@checkins_router.post("/{checkin_id}/review", response={200: ReviewOut, **ERRORS})
def review(request, checkin_id: Id, payload: ReviewIn):
    """Accept or reject a flagged check-in (it counts for hours only if accepted)."""
    checkin = services.get_checkin_for_user(request.user, checkin_id)
    result = services.review_check_in(
        actor=request.user, checkin=checkin, decision=str(payload.decision), reason=payload.reason
    )
    return {
        "id": result.pk,
        "checkin_id": checkin.pk,
        "decision": result.decision,
        "reason": result.reason,
        "reviewed_at": result.reviewed_at,
    }


class QualityRatingIn(Schema):
    member_id: Id
    quality: Quality


class RatingsIn(Schema):
    ratings: list[QualityRatingIn] = Field(..., min_length=1, max_length=5000)


class CountOut(Schema):
    changed: int


@activities_router.put("/{activity_id}/ratings", response={200: CountOut, **ERRORS})
def rate(request, activity_id: Id, payload: RatingsIn):
    """Rate participants' completion quality (优秀/良好/合格/不合格) after the activity."""
    activity = _managed(request, activity_id)
    changed = services.rate_participants(
        actor=request.user,
        activity=activity,
        ratings={r.member_id: str(r.quality) for r in payload.ratings},
    )
    return {"changed": changed}


class EvaluateIn(Schema):
    effect: Effect
    summary: Text = Field(..., min_length=1, max_length=2000)


@activities_router.post("/{activity_id}/evaluate", response={200: ActivityOut, **ERRORS})
def evaluate(request, activity_id: Id, payload: EvaluateIn):
    """The effect evaluation (6.1.4); settles every participant's service hours."""
    services.evaluate_activity(
        actor=request.user,
        activity=_managed(request, activity_id),
        effect=str(payload.effect),
        summary=payload.summary,
    )
    return _detail(request, activity_id)


class CorrectionIn(Schema):
    member_id: Id
    hours: Decimal = Field(..., ge=0, le=168, max_digits=6, decimal_places=2)
    reason: Text = Field(..., min_length=1, max_length=200)


class HoursEntryOut(Schema):
    id: int
    member_id: int
    hours: Decimal
    source: str
    reason: str
    recorded_at: datetime


@activities_router.post("/{activity_id}/hours/corrections", response={201: HoursEntryOut, **ERRORS})
def correct_hours(request, activity_id: Id, payload: CorrectionIn):
    """Set a participant's settled hours; stored as a correction entry with the reason."""
    activity = _managed(request, activity_id)
    member = get_member_for_user(request.user, payload.member_id, "members.view")
    entry = services.correct_hours(
        actor=request.user,
        activity=activity,
        member=member,
        hours=payload.hours,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": entry.pk,
            "member_id": entry.member_id,
            "hours": entry.hours,
            "source": entry.source,
            "reason": entry.reason,
            "recorded_at": entry.recorded_at,
        },
    )


class MyActivityOut(Schema):
    activity: ActivityListItem
    status: ParticipationStatus
    status_label: str
    hours: Decimal | None = None


@my_activities_router.get("", response=list[MyActivityOut])
@paginate(Pagination)
def my_activities(request):
    """The caller's sign-ups, newest activity first."""
    rows = list(selectors.my_participations(request.user)[:500])
    hours = selectors.my_settled_hours(request.user, [p.activity_id for p in rows])
    return [
        {
            "activity": p.activity,
            "status": p.status,
            "status_label": p.get_status_display(),
            "hours": hours.get(p.activity_id),
        }
        for p in rows
    ]


class InboxOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


@inbox_router.get("", response=list[InboxOut])
@paginate(Pagination)
def inbox(request, unread: bool = False):
    """The caller's in-app messages, newest first."""
    rows = notices.inbox_of(request.user)
    return rows.filter(read_at__isnull=True) if unread else rows


@inbox_router.post("/{notice_id}/read", response={200: CountOut, **ERRORS})
def read_notice(request, notice_id: Id):
    return {"changed": notices.mark_read(user=request.user, notice_id=notice_id)}


@inbox_router.post("/read-all", response={200: CountOut, **ERRORS})
def read_all(request):
    return {"changed": notices.mark_read(user=request.user)}


class AttendanceIn(Schema):
    team_id: Id
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class AttendanceRowOut(Schema):
    name: str
    unit: str
    hours: Decimal
    activities: int


class AttendanceOut(Schema):
    id: int
    public_id: uuid.UUID
    team: UnitRef
    month: str
    version: int
    total_hours: Decimal
    activity_count: int
    published_at: datetime
    rows: list[AttendanceRowOut]
    public_url: str

    @staticmethod
    def resolve_team(obj):
        return {"id": obj.team.pk, "name": obj.team.name, "kind": obj.team.kind}

    @staticmethod
    def resolve_month(obj) -> str:
        return f"{obj.month:%Y-%m}"

    @staticmethod
    def resolve_public_url(obj) -> str:
        return f"/public/attendance/{obj.public_id}/"


@attendance_router.post("", response={201: AttendanceOut, **ERRORS})
def publish_attendance(request, payload: AttendanceIn):
    """公示 (5.2.9): publish a finished month's attendance of a team (captain)."""
    team = access.get_unit_for_user(request.user, payload.team_id)
    notice = services.publish_attendance_notice(
        actor=request.user, team=team, month=services.parse_month(payload.month)
    )
    return Status(201, AttendanceNotice.objects.select_related("team").get(pk=notice.pk))


@attendance_router.get("", response=list[AttendanceOut])
@paginate(Pagination)
def list_attendance(request, team_id: Id | None = None):
    """Published notices of the teams in the caller's scope."""
    rows = AttendanceNotice.objects.filter(
        team__in=selectors.attendance_teams(request.user)
    ).select_related("team")
    if team_id:
        rows = rows.filter(team_id=team_id)
    return rows


@public_router.get("/{public_id}", response={200: AttendanceOut, 404: ErrorOut}, auth=None)
def public_attendance(request, public_id: uuid.UUID):
    """The public 公示 (no login): masked names, hours and activity counts."""
    return services.public_notice(public_id)
