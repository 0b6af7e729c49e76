"""The seed's activities (per-team seed steps): "activities.history" — evaluated activities of
the past year with sign-ups, short waitlists, check-ins and settled hours — and
"activities.upcoming" — one published patrol next week, full, with a waitlist in some teams.
Leaves `seeding.settled` [(person, activity id, hours, difficulty, quality, title, at)…] for the
points step."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

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
from hongfeng.activities.services.completion import _hours
from hongfeng.core.seed import SeedUnit, Weights
from hongfeng.members.models import MemberStatus
from hongfeng.members.seed import SeedPerson

_ACTIVITY_TITLES = {
    ActivityKind.PATROL: "夜间巡逻守护",
    ActivityKind.PUBLICITY: "反诈防范宣传",
    ActivityKind.RISK_INSPECTION: "出租房风险排查",
    ActivityKind.CARE: "关爱独居老人",
    ActivityKind.SECURITY_DUTY: "大型活动安保勤务",
    ActivityKind.MEDIATION: "邻里矛盾化解",
}
_RISK_ASSESSMENT = "高风险任务：已完成安全风险评估，配发防护装备，民警现场指导，设置撤离路线。"
_QUALITIES = Weights([(Quality.EXCELLENT, 2), (Quality.GOOD, 5), (Quality.PASS, 3)])
_DIFFICULTIES = Weights(
    [
        (Difficulty.NORMAL, 6),
        (Difficulty.HARDER, 2),
        (Difficulty.HARD, 1),
        (Difficulty.HIGH_RISK, 1),
    ]
)
_KINDS = list(_ACTIVITY_TITLES)
_EFFECTS = [Effect.EXCELLENT, Effect.GOOD, Effect.FAIR]
# Timedeltas the hot loop would otherwise build millions of times.
_SECONDS = [timedelta(seconds=i) for i in range(1, 31)]
_MINUTES = [timedelta(minutes=i) for i in range(601)]
_HOURS = [timedelta(hours=i) for i in range(61)]

_ACTIVITY_COLUMNS = (
    "kind", "title", "unit_id", "audience_unit_id", "place", "latitude", "longitude",
    "starts_at", "ends_at", "capacity", "confirmed_count", "waitlist_count", "difficulty",
    "risk_assessment", "status", "checkout_due_at", "checkouts_swept_at", "effect",
    "created_by_id", "published_at", "broadcast_done_at", "evaluated_at", "created_at",
)  # fmt: skip
_HISTORY_COLUMNS = ("activity_id", "from_status", "to_status", "changed_by_id", "changed_at")
_PARTICIPATION_COLUMNS = (
    "activity_id", "member_id", "status", "queued_at", "updated_at", "quality", "rated_by_id",
    "rated_at",
)  # fmt: skip
_CHECKIN_COLUMNS = (
    "activity_id", "member_id", "kind", "method", "client_id", "at", "device_time",
    "received_at", "latitude", "longitude", "accuracy_m", "distance_m", "recorded_by_id",
)  # fmt: skip
_HOURS_COLUMNS = ("activity_id", "member_id", "hours", "source", "recorded_by_id", "recorded_at")


@dataclass(slots=True)
class _Plan:
    """One past activity of a team before it is written."""

    kind: str
    starts: datetime
    ends: datetime
    difficulty: str
    capacity: int
    lat: float
    lon: float
    effect: str
    confirmed: list[SeedPerson]
    waitlisted: list[SeedPerson]

    @property
    def published(self) -> datetime:
        return self.starts - timedelta(days=3)

    @property
    def created(self) -> datetime:
        return self.published - timedelta(hours=1)

    @property
    def evaluated(self) -> datetime:
        return self.ends + timedelta(days=1)

    def row(self, team: SeedUnit, captain: int) -> tuple:
        """The activity's row: evaluated, checked out by the sweep."""
        swept = self.ends + CHECKOUT_GRACE
        return (
            self.kind, _ACTIVITY_TITLES[self.kind], team.id, team.id, f"{team.name}辖区",
            self.lat, self.lon, self.starts, self.ends, self.capacity, len(self.confirmed),
            len(self.waitlisted), self.difficulty,
            _RISK_ASSESSMENT if self.difficulty == Difficulty.HIGH_RISK else "",
            ActivityStatus.EVALUATED, swept, swept, self.effect, captain, self.published,
            self.published, self.evaluated, self.created,
        )  # fmt: skip


def _seconds_to_hours(seconds: float) -> Decimal:
    return _hours(seconds)


def clipped_hours(starts: datetime, ends: datetime, at_in: datetime, at_out: datetime) -> Decimal:
    """The check-in span clipped to the activity window, in hours to two places (as
    hongfeng.activities.services.completion.computed_hours counts a pair)."""
    lo, hi = max(at_in, starts), min(at_out, ends)
    return _seconds_to_hours(max((hi - lo).total_seconds(), 0.0))


def _hours_of(seeding, seconds: int) -> Decimal:
    cache = seeding.__dict__.setdefault("hours_of_seconds", {})
    hours = cache.get(seconds)
    if hours is None:
        hours = cache[seconds] = _seconds_to_hours(seconds)
    return hours


def _plans(seeding, people: list[SeedPerson]) -> list[_Plan]:
    """Activities of the past year until the team's members hold five confirmed participations
    each on average (so check-ins come to exactly ten per member). Only members who could serve
    that day are picked (trained, insured, not yet gone; protective gear for high-risk tasks);
    about one activity in ten was full and kept a short waitlist."""
    rng, now = seeding.rng, seeding.now
    r = rng.random
    target = len(people) * seeding.scale.checkins_per_member // 2
    # Most people could serve on any day of the past year; only the others are checked
    # against each activity's day.
    earliest = seeding.today - timedelta(days=362)
    steady = [p for p in people if p.since <= earliest and p.until >= seeding.today]
    steady_gear = [p for p in steady if p.gear]
    limited = [p for p in people if not (p.since <= earliest and p.until >= seeding.today)]
    plans: list[_Plan] = []
    booked = misses = 0
    while booked < target:
        kind = rng.choice(_KINDS)
        starts = now - timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 12))
        ends = starts + _HOURS[rng.choice((2, 3, 4))]
        difficulty = _DIFFICULTIES.pick(rng)
        first = timezone.localtime(starts, seeding.zone).date()
        last = timezone.localtime(ends, seeding.zone).date()
        high_risk = difficulty == Difficulty.HIGH_RISK
        pool = (steady_gear if high_risk else steady) + [
            p for p in limited if p.since <= first and last <= p.until and (p.gear or not high_risk)
        ]
        if not pool:
            misses += 1
            if misses > 1000:  # nobody can ever serve: stop rather than spin
                break
            continue
        size = min(len(pool), rng.randint(8, 20), target - booked)
        confirmed = rng.sample(pool, size)
        waitlisted: list[SeedPerson] = []
        if r() < 0.1 and len(pool) > size:
            taken = {p.n for p in confirmed}
            rest = [p for p in pool if p.n not in taken]
            waitlisted = rng.sample(rest, min(len(rest), rng.randint(1, 3)))
            capacity = size
        else:
            capacity = size + rng.randint(0, 5)
        plans.append(
            _Plan(kind=kind, starts=starts, ends=ends, difficulty=difficulty,
                  capacity=capacity, lat=30.0 + r(), lon=120.0 + r(),
                  effect=rng.choice(_EFFECTS), confirmed=confirmed, waitlisted=waitlisted)
        )  # fmt: skip
        booked += size
    return plans


def seed_history(seeding) -> None:
    """The team's evaluated past activities and everything they left behind. This step writes
    most of the seed's rows, so it avoids per-row object work: timedeltas come from tables,
    draws from `Dice`."""
    rng, w, team, captain = seeding.rng, seeding.writer, seeding.team, seeding.captain
    r = rng.random
    plans = _plans(seeding, seeding.people)
    activity_ids = w.insert(
        seeding.table(Activity, _ACTIVITY_COLUMNS),
        [plan.row(team, captain) for plan in plans],
        ids=True,
    )
    history, participations, checkins, hours_rows, settled = [], [], [], [], []
    gps, qr, confirmed_status = (
        CheckInMethod.GPS,
        CheckInMethod.QR,
        ParticipationStatus.CONFIRMED,
    )
    checked_in, checked_out = CheckInKind.IN, CheckInKind.OUT
    getrandbits, new_uuid = rng.getrandbits, uuid.UUID
    for activity_id, plan in zip(activity_ids, plans, strict=True):
        title, lat, lon = _ACTIVITY_TITLES[plan.kind], plan.lat, plan.lon
        starts, ends, difficulty = plan.starts, plan.ends, plan.difficulty
        published, rated_at = plan.published, plan.evaluated
        history += [
            (activity_id, "", ActivityStatus.DRAFT, captain, plan.created),
            (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
            # The sweep moves an activity along the clock (changed_by NULL = the platform).
            (activity_id, ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, None, starts),
            (activity_id, ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED, None, ends),
            (activity_id, ActivityStatus.FINISHED, ActivityStatus.EVALUATED, captain, rated_at),
        ]  # fmt: skip
        for p in plan.confirmed:
            member_id = p.member_id
            quality = _QUALITIES.pick(rng)
            queued = published + _MINUTES[rng.randint(1, 600)]
            participations.append(
                (activity_id, member_id, confirmed_status, queued, rated_at, quality, captain,
                 rated_at)
            )  # fmt: skip
            # Inside the window: in up to 20 minutes late, out up to 20 minutes early.
            at_in = starts + _MINUTES[int(r() * 21)]
            at_out = ends - _MINUTES[int(r() * 21)]
            checkins.append(
                (activity_id, member_id, checked_in, gps if r() < 0.8 else qr,
                 new_uuid(int=getrandbits(128)), at_in, at_in, at_in + _SECONDS[int(r() * 30)],
                 lat, lon, float(5 + int(r() * 36)), float(int(r() * 201)), p.user_id)
            )  # fmt: skip
            checkins.append(
                (activity_id, member_id, checked_out, gps if r() < 0.8 else qr,
                 new_uuid(int=getrandbits(128)), at_out, at_out,
                 at_out + _SECONDS[int(r() * 30)], lat, lon, float(5 + int(r() * 36)),
                 float(int(r() * 201)), p.user_id)
            )  # fmt: skip
            hours = _hours_of(seeding, int((at_out - at_in).total_seconds()))
            hours_rows.append(
                (activity_id, member_id, hours, HoursSource.CHECKINS, captain, rated_at)
            )
            settled.append((p, activity_id, hours, difficulty, quality, title, rated_at))
        for p in plan.waitlisted:  # still waiting when the activity ran; never promoted
            queued = published + _HOURS[rng.randint(12, 60)]
            participations.append(
                (activity_id, p.member_id, ParticipationStatus.WAITLISTED, queued, queued,
                 "", None, None)
            )  # fmt: skip
    w.insert(seeding.table(ActivityStatusChange, _HISTORY_COLUMNS), history)
    w.insert(seeding.table(Participation, _PARTICIPATION_COLUMNS), participations)
    w.insert(seeding.table(CheckIn, _CHECKIN_COLUMNS), checkins)
    w.insert(seeding.table(HoursEntry, _HOURS_COLUMNS), hours_rows)
    seeding.settled = settled


def seed_upcoming(seeding) -> None:
    """One published patrol next week with its sign-ups (full, with a waitlist, in one
    team of three), so home pages and activity lists have something open. Its broadcast
    counts as done, so the sweep does not send one for every seeded team."""
    rng, now, team, captain = seeding.rng, seeding.now, seeding.team, seeding.captain
    starts = now + timedelta(days=rng.randint(3, 10), hours=rng.randint(0, 8))
    ends = starts + timedelta(hours=3)
    published = now - timedelta(days=rng.randint(1, 2))
    pool = [p for p in seeding.people if p.status in (MemberStatus.ACTIVE, MemberStatus.CORE)]
    capacity = rng.randint(15, 30)
    size = min(len(pool), rng.randint(capacity // 2, capacity + 4))
    chosen = rng.sample(pool, size)
    confirmed, waitlisted = chosen[:capacity], chosen[capacity:]
    kind = ActivityKind.PATROL
    (activity_id,) = seeding.writer.insert(
        seeding.table(Activity, _ACTIVITY_COLUMNS),
        [
            (kind, _ACTIVITY_TITLES[kind], team.id, team.id, f"{team.name}辖区",
             30.0 + rng.random(), 120.0 + rng.random(), starts, ends, capacity,
             len(confirmed), len(waitlisted), Difficulty.NORMAL, "", ActivityStatus.PUBLISHED,
             ends + CHECKOUT_GRACE, None, "", captain, published, published, None,
             published - timedelta(hours=1))
        ],
        ids=True,
    )  # fmt: skip
    seeding.writer.insert(
        seeding.table(ActivityStatusChange, _HISTORY_COLUMNS),
        [
            (activity_id, "", ActivityStatus.DRAFT, captain, published - timedelta(hours=1)),
            (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
        ],
    )
    rows = []
    for i, p in enumerate(confirmed + waitlisted):
        queued = min(published + timedelta(minutes=5 * i + rng.randint(0, 4)), now)
        status = ParticipationStatus.CONFIRMED if i < capacity else ParticipationStatus.WAITLISTED
        rows.append((activity_id, p.member_id, status, queued, queued, "", None, None))
    seeding.writer.insert(seeding.table(Participation, _PARTICIPATION_COLUMNS), rows)
