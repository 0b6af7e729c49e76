"""Demo activities that are over: the 红枫义警总队's evaluated activities of the last weeks,
written as history — the way records are carried over from an earlier system — with the same
rows the services would have written (check-ins, settled hours, ratings, status history,
points). They lie in the past, where the services' clocks cannot go. `demo.build` calls
`write_history`."""

import random
import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    Activity,
    ActivityKind,
    ActivityStatus,
    ActivityStatusChange,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    Difficulty,
    Effect,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
    Quality,
)
from hongfeng.points.services import award_activity_points

# 枫桥镇 (诸暨): the 枫桥经验 陈列馆 and the places around it.
FENGQIAO = (29.6263, 120.3176)

# (kind, title, place, days from now, start hour, hours, difficulty, capacity, effect)
_HISTORY = [
    (
        ActivityKind.TRAINING,
        "岗前培训第二期：法律常识与安全防护",
        "枫桥镇社区警校",
        -46,
        9,
        4,
        Difficulty.NORMAL,
        30,
        Effect.GOOD,
    ),
    (
        ActivityKind.RISK_INSPECTION,
        "沿街商铺消防隐患排查",
        "枫桥老街",
        -41,
        14,
        3,
        Difficulty.HARDER,
        12,
        Effect.EXCELLENT,
    ),
    (
        ActivityKind.PUBLICITY,
        "反诈宣传进社区（老年人专场）",
        "枫源村文化礼堂",
        -36,
        9,
        3,
        Difficulty.NORMAL,
        15,
        Effect.EXCELLENT,
    ),
    (
        ActivityKind.SPECIAL,
        "枫桥经验纪念日专项活动",
        "枫桥经验陈列馆",
        -26,
        8,
        5,
        Difficulty.NORMAL,
        25,
        Effect.GOOD,
    ),
    (
        ActivityKind.PATROL,
        "枫桥镇夜间治安巡逻",
        "枫桥镇中心街",
        -20,
        19,
        3,
        Difficulty.HARDER,
        10,
        Effect.GOOD,
    ),
    (
        ActivityKind.MEDIATION,
        "邻里纠纷调解协助",
        "枫溪社区调解室",
        -15,
        14,
        2,
        Difficulty.HARD,
        6,
        Effect.FAIR,
    ),
    (
        ActivityKind.CARE,
        "独居老人上门探访",
        "栎桥村",
        -10,
        9,
        3,
        Difficulty.NORMAL,
        8,
        Effect.EXCELLENT,
    ),
]


def at_hour(now: datetime, days: int, hour: int) -> datetime:
    """The local day `days` from `now`, on the hour `hour`."""
    local = timezone.localtime(now) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def _place(rng: random.Random) -> tuple[float, float]:
    return FENGQIAO[0] + rng.uniform(-0.01, 0.01), FENGQIAO[1] + rng.uniform(-0.01, 0.01)


class Past(NamedTuple):
    """One row of _HISTORY."""

    kind: str
    title: str
    place: str
    days: int  # from now (negative: in the past)
    hour: int
    hours: int
    difficulty: str
    capacity: int
    effect: str


_QUALITIES = [Quality.EXCELLENT, Quality.GOOD, Quality.GOOD, Quality.GOOD, Quality.PASS]


def write_history(rng, now, captain, team, serving) -> None:
    """Every finished activity of the table above."""
    for row in _HISTORY:
        _history(rng, now, captain, team, serving, Past(*row))


@transaction.atomic
def _history(rng, now, captain, team, serving, past: Past) -> Activity:
    """A finished, evaluated activity with check-ins, ratings and settled hours. The random
    numbers are drawn in a fixed order, so the demo is the same every time."""
    starts = at_hour(now, past.days, past.hour)
    ends = starts + timedelta(hours=past.hours)
    lat, lon = _place(rng)
    capacity = past.capacity
    people = rng.sample(
        serving, min(capacity, len(serving), rng.randrange(max(capacity // 2, 3), capacity + 1))
    )
    activity = Activity.objects.create(
        kind=past.kind,
        title=past.title,
        description=f"{past.title}。由红枫义警总队组织，活动结束后已完成成效评估。",
        unit=team,
        audience_unit=team,
        place=past.place,
        latitude=lat,
        longitude=lon,
        radius_m=300,
        starts_at=starts,
        ends_at=ends,
        capacity=capacity,
        difficulty=past.difficulty,
        risk_assessment=services.default_risk_assessment(unit=team, kind=past.kind),  # 5.4.7
        status=ActivityStatus.EVALUATED,
        confirmed_count=len(people),
        notified_count=len(serving),
        checkout_due_at=ends + CHECKOUT_GRACE,
        checkouts_swept_at=ends + CHECKOUT_GRACE,
        effect=past.effect,
        effect_summary=f"共 {len(people)} 人参加，按计划完成。",
        created_by=captain,
        published_at=starts - timedelta(days=5),
        evaluated_at=ends + timedelta(days=1),
    )
    _status_history(activity, captain)
    for member in people:
        _took_part(rng, activity, member, captain)
    _settle(activity, captain)
    return activity


def _status_history(activity: Activity, captain) -> None:
    """Drafted six days before, published five, run, finished, evaluated the day after."""
    starts, ends = activity.starts_at, activity.ends_at
    steps = [
        ("", ActivityStatus.DRAFT, starts - timedelta(days=6)),
        (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, starts - timedelta(days=5)),
        (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, starts),
        (ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED, ends),
        (ActivityStatus.FINISHED, ActivityStatus.EVALUATED, ends + timedelta(days=1)),
    ]
    ActivityStatusChange.objects.bulk_create(
        ActivityStatusChange(
            activity=activity, from_status=a, to_status=b, changed_by=captain, changed_at=t
        )
        for a, b, t in steps
    )


def _took_part(rng, activity: Activity, member, captain) -> None:
    """The member signed up, checked in near the start and out near the end, and was rated."""
    starts, ends = activity.starts_at, activity.ends_at
    arrive = starts + timedelta(minutes=rng.randrange(-20, 25))
    leave = ends + timedelta(minutes=rng.randrange(-30, 20))
    Participation.objects.create(
        activity=activity,
        member=member,
        status=ParticipationStatus.CONFIRMED,
        queued_at=starts - timedelta(days=4, minutes=rng.randrange(0, 2000)),
        updated_at=starts - timedelta(days=4),
        quality=rng.choice(_QUALITIES),
        rated_by=captain,
        rated_at=ends + timedelta(days=1),
    )
    for kind, at in ((CheckInKind.IN, arrive), (CheckInKind.OUT, leave)):
        CheckIn(
            activity=activity,
            member=member,
            kind=kind,
            method=rng.choice([CheckInMethod.GPS, CheckInMethod.GPS, CheckInMethod.QR]),
            client_id=uuid.UUID(int=rng.getrandbits(128)),
            at=at,
            device_time=at,
            received_at=at,
            latitude=activity.latitude + rng.uniform(-0.0008, 0.0008),
            longitude=activity.longitude + rng.uniform(-0.0008, 0.0008),
            accuracy_m=rng.choice([8.0, 12.0, 25.0]),
            distance_m=rng.uniform(5, 120),
            recorded_by=member.user,
        ).save(force_insert=True)


def _settle(activity: Activity, captain) -> None:
    """The hours computed from the check-ins, and the points the evaluation gives."""
    recorded_at = activity.ends_at + timedelta(days=1)
    HoursEntry.objects.bulk_create(
        HoursEntry(
            activity=activity,
            member_id=member_id,
            hours=value,
            source=HoursSource.CHECKINS,
            recorded_by=captain,
            recorded_at=recorded_at,
        )
        for member_id, value in services.computed_hours(activity).items()
    )
    award_activity_points(activity=activity, actor=captain)


__all__ = ["FENGQIAO", "at_hour", "write_history"]
