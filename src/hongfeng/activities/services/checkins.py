"""Check-in and check-out (5.2.9): by GPS inside the geofence, by scanning the organiser's
rotating code, or recorded by the organiser with a reason. Every record carries a client id, so
a retry or a re-synced offline batch is recognised and never stored twice. Anything suspicious
is stored with flags for a person to review — never silently dropped."""

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities import qr
from hongfeng.activities.geo import haversine_m, valid_coordinates
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    CheckInReview,
    Flag,
    Participation,
    ParticipationStatus,
    ReviewDecision,
)
from hongfeng.activities.services.eligibility import member_of
from hongfeng.activities.services.publishing import get_activity_for_user, require_visible
from hongfeng.audit.services import (
    guarded_event,
    head_as_it_stands,
    head_was_taken,
    record_event,
)
from hongfeng.core import hotpath
from hongfeng.core.errors import Conflict, DomainError, NotFound
from hongfeng.members.models import Member

__all__ = [
    "CheckInData",
    "auto_check_out",
    "check_in",
    "check_in_by_id",
    "manual_check_in",
    "pending_reviews",
    "review_check_in",
    "sync_offline",
]

# Device clocks within this of the server's are trusted as they are.
CLOCK_SKEW = timedelta(minutes=5)
# Faster than this between two check-ins is not a person moving across a city (km/h).
MAX_SPEED_KMH = 150
# Offline records older than this are not accepted (the organiser can still record manually).
OFFLINE_MAX_AGE = timedelta(days=3)
NOT_COUNTED = (ReviewDecision.REJECTED,)


@dataclass
class CheckInData:
    """One check-in or check-out as the phone sends it."""

    kind: str
    client_id: uuid.UUID
    device_time: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    qr_token: str = ""
    # Outside the fence: store it for review instead of refusing it (the member insists).
    allow_review: bool = False


def _err(code: str, message: str, field: str | None = None, status: int = 422):
    error = DomainError(message, code=code, field=field)
    error.status = status
    return error


_QR_MESSAGES = {
    "qr_forged": "签到码无效（不是本平台生成的签到码）。",
    "qr_wrong_activity": "这是另一个活动的签到码。",
    "qr_expired": "签到码已过期，请扫描组织者手机上的最新签到码。",
}


def _member(user) -> Member:
    return _required(member_of(user))


def _required(member: Member | None) -> Member:
    if member is None:
        raise DomainError("您还没有队员档案。", code="no_member_file")
    return member


@dataclass(frozen=True)
class _Record:
    """One stored record as the checks need it."""

    pk: int
    client_id: uuid.UUID
    kind: str
    at: datetime
    activity_id: int
    review: str | None  # the latest review's decision
    latitude: float  # where it was made (the activity's place when no position was sent)
    longitude: float


_LATEST_DECISION = (
    "(SELECT r.decision FROM activities_checkinreview r WHERE r.checkin_id = t0.id "
    "ORDER BY r.reviewed_at DESC, r.id DESC LIMIT 1)"
)
_PLACE = (
    "COALESCE(t0.latitude, (SELECT a.latitude FROM activities_activity a "
    "WHERE a.id = t0.activity_id))",
    "COALESCE(t0.longitude, (SELECT a.longitude FROM activities_activity a "
    "WHERE a.id = t0.activity_id))",
)
# {member}: "%s" (a parameter) standing alone; "n.member_id" inside _place_statement
_OWN = "(t0.activity_id = %s AND t0.member_id = {member})"
_PREVIOUS = (
    "t0.id = (SELECT q.id FROM activities_checkin q WHERE q.member_id = {member} "
    "AND q.at <= %s ORDER BY q.at DESC, q.id DESC LIMIT 1)"
)
_RECORD_FIELDS = ("id", "client_id", "kind", "at", "activity_id")
_RECORD_WIDTH = len(_RECORD_FIELDS) + 1 + len(_PLACE)


def _history_select(with_previous: bool, member: str = "%s") -> hotpath.ValuesSelect:
    where = f"{_OWN} OR {_PREVIOUS}" if with_previous else _OWN
    return hotpath.values_select(
        CheckIn,
        _RECORD_FIELDS,
        where.format(member=member),
        extra=(_LATEST_DECISION, *_PLACE),
        order="t0.at, t0.id",
    )


def _records(select: hotpath.ValuesSelect, rows, start: int = 0) -> list[_Record]:
    end = start + len(_RECORD_FIELDS)
    return [
        _Record(*select.convert(row[start:end]), *row[end : start + _RECORD_WIDTH])
        for row in rows
        if row[start] is not None  # a read with no record still has its one row
    ]


def _history(activity: Activity, member: Member, at: datetime | None = None) -> list[_Record]:
    """The member's records for this activity in time order, each with its latest review —
    and, when `at` is given, also their last record up to `at` in any activity (for the speed
    check). One query serves the retry lookup, the in/out sequence and the speed check."""
    select = _history_select(at is not None)
    params = [activity.pk, member.pk]
    if at is not None:
        params += [member.pk, hotpath.db_value(CheckIn, "at", at)]
    return _records(select, hotpath.fetch_rows(select.sql, params))


@dataclass
class _Place:
    """What a check-in is judged on: the member's place in the activity as read — its status
    and version (see Participation.checkin_version) — and their records; on PostgreSQL also
    an audit chain head as it stands and the new record's key, read in the same statement."""

    participation_id: int | None
    status: str | None
    version: int
    history: list[_Record]
    head: object | None = None  # an AuditChainHead
    next_id: int | None = None


class _Busy(Exception):
    """Another record for the same place was stored after this one's read: judge it again."""


# What the check-in endpoint's read takes of the activity and the member file: what a check-in
# is judged on (the window, the place, the visibility rule) and what its audit event names.
# The other columns stay deferred — read from the database if anything touches them, which
# the three-statement test would catch; reading all ~120 columns (each timestamp through
# Django's own loader) was ~5 % of a check-in's CPU (python -m bench, a2).
_ACTIVITY = {
    "where": "t0.id = %s",
    "related": ("audience_unit",),
    "only": {
        "": (
            "status",
            "title",
            "unit",
            "audience_unit",
            "starts_at",
            "ends_at",
            "latitude",
            "longitude",
            "radius_m",
        ),
        "audience_unit": ("path",),
    },
}
_MEMBER = {
    "where": "t0.id = n.member_id",
    "related": ("unit",),
    "only": {"": ("user", "unit", "status"), "unit": ("path",)},
}


@cache
def _place_statement(with_previous: bool, by_user: bool) -> str:
    """PostgreSQL, built once per process: the place (of the member given, or — `by_user` —
    of the user's member file, with the activity and that file as rows too), an audit chain
    head, the new record's key and the records, in one statement."""
    member = (
        "(SELECT mm.id FROM members_member mm WHERE mm.user_id = %s)"
        if by_user
        else "CAST(%s AS bigint)"
    )
    rows = ""
    if by_user:
        activity = hotpath.row_select(Activity, **_ACTIVITY)
        member_file = hotpath.row_select(Member, **_MEMBER)
        rows = (
            f"LEFT JOIN LATERAL ({activity.sql}) a ON TRUE "
            f"LEFT JOIN LATERAL ({member_file.sql}) m ON TRUE "
        )
    return (
        "SELECT n.next_id, n.member_id, pl.id, pl.status, pl.checkin_version, h.*"  # noqa: S608
        f"{', a.*, m.*' if by_user else ''}, r.* "
        f"FROM (SELECT {hotpath.next_id_sql(CheckIn)} AS next_id, {member} AS member_id) n "
        "LEFT JOIN activities_participation pl "
        "ON pl.activity_id = %s AND pl.member_id = n.member_id "
        f"LEFT JOIN LATERAL ({head_as_it_stands()[0].sql}) h ON TRUE {rows}"
        f"LEFT JOIN LATERAL ({_history_select(with_previous, 'n.member_id').sql}) r ON TRUE "
        "ORDER BY r.at, r.id"
    )


def _read_place(activity: Activity, member: Member, at: datetime | None) -> _Place:
    """The place and the records; on PostgreSQL in one round trip with a head to write to."""
    if not hotpath.is_postgresql():
        row = hotpath.fetch_values(
            Participation,
            ("id", "status", "checkin_version"),
            "t0.activity_id = %s AND t0.member_id = %s",
            [activity.pk, member.pk],
        )
        found = row[0] if row else (None, None, 0)
        return _Place(*found, history=_history(activity, member, at))
    return _read_together(member.pk, activity.pk, at)[2]


def _read_together(member_or_user: int, activity_id: int, at, *, by_user: bool = False):
    """PostgreSQL: (activity, member file, place) in one round trip — the two rows only
    `by_user` (None otherwise), the place always."""
    head, head_params = head_as_it_stands()
    params = [member_or_user, activity_id, *head_params]
    if by_user:
        params.append(activity_id)
    params.append(activity_id)
    if at is not None:
        params.append(hotpath.db_value(CheckIn, "at", at))
    rows = hotpath.fetch_rows(_place_statement(at is not None, by_user), params)
    first, start = rows[0], 5 + head.width
    activity = member = None
    if by_user:
        activity_row = hotpath.row_select(Activity, **_ACTIVITY)
        member_row = hotpath.row_select(Member, **_MEMBER)
        member_start = start + activity_row.width
        activity = activity_row.build(first[start:member_start])
        start = member_start + member_row.width
        member = member_row.build(first[member_start:start])
    place = _Place(
        participation_id=first[2],
        status=first[3],
        version=first[4] or 0,
        history=_records(_history_select(at is not None, "n.member_id"), rows, start),
        head=head.build(first[5 : 5 + head.width]),
        next_id=first[0],
    )
    return activity, member, place


def _store(place: _Place, checkin: CheckIn, event: dict) -> None:
    """Write the record and its audit event, moving the place's version on from the one read
    — or raise _Busy: another record was stored meanwhile, judge this one again. On
    PostgreSQL one statement, atomic without a transaction: the version's move, then the
    audit head's move from where it was read (another writer may have moved it: _Busy too),
    then the record and the event, each only if the one before held."""
    bump = (
        "UPDATE activities_participation SET checkin_version = checkin_version + 1 "
        "WHERE id = %s AND checkin_version = %s AND status = %s",
        [place.participation_id, place.version, ParticipationStatus.CONFIRMED.value],
    )
    if place.head is not None:
        checkin.pk = place.next_id
        audit_event, move_head = guarded_event(place.head, **event)
        held = hotpath.write_if([bump, move_head], [checkin, audit_event])
        if held == 1:  # the place's version moved on, the head did not: another chain next
            head_was_taken()
        if held < 2:
            raise _Busy
        return
    # SQLite, or no chain heads yet: inside _attempt's transaction when there is one
    with transaction.atomic(savepoint=False):
        if not hotpath.execute(*bump):
            raise _Busy
        checkin.pk = place.next_id  # PostgreSQL: taken by the read
        record_event(**event, inserting=checkin)


def _confirmed(place: _Place, message: str, **error) -> _Place:
    """`place`, if it is a confirmed one (not_signed_up otherwise)."""
    if place.status != ParticipationStatus.CONFIRMED:
        raise _err("not_signed_up", message, **error)
    return place


def _own_records(history: list[_Record], activity: Activity) -> list[_Record]:
    return [r for r in history if r.activity_id == activity.pk]


def _state_before(records: list[_Record], at: datetime) -> str | None:
    """The kind of the last counted record up to `at`."""
    for record in reversed(records):
        if record.at <= at and record.review not in NOT_COUNTED:
            return record.kind
    return None


def _latest_review():
    return (
        CheckInReview.objects.filter(checkin=OuterRef("pk"))
        .order_by("-reviewed_at", "-id")
        .values("decision")[:1]
    )


def _check_window(activity: Activity, kind: str, at: datetime) -> None:
    if not activity.accepts_checkins:
        raise _err("activity_not_running", "该活动不在进行中，不能签到。", status=409)
    opens, closes = activity.checkin_window(kind)
    if not opens <= at <= closes:
        local = timezone.localtime
        raise _err(
            "outside_time_window",
            f"不在签到时间内（{local(opens):%m月%d日 %H:%M} 至 {local(closes):%H:%M}）。",
            field="device_time",
        )


def _check_sequence(records: list[_Record], kind: str, at: datetime) -> None:
    state = _state_before(records, at)
    if kind == CheckInKind.IN and state == CheckInKind.IN:
        raise _err("already_checked_in", "您已签到，无需重复签到。", status=409)
    if kind == CheckInKind.OUT and state != CheckInKind.IN:
        raise _err("not_checked_in", "您还没有签到，不能签退。", status=409)


def _speed_flag(history: list[_Record], at: datetime, lat: float, lon: float) -> bool:
    """Impossible travel: the member's previous record (any activity) too far for the time."""
    earlier = [r for r in history if r.at <= at]
    if not earlier:
        return False
    previous = max(earlier, key=lambda r: (r.at, r.pk))
    metres = haversine_m(previous.latitude, previous.longitude, lat, lon)
    seconds = max((at - previous.at).total_seconds(), 1)
    return metres > 1000 and metres / seconds * 3.6 > MAX_SPEED_KMH


def _timing(
    data: CheckInData, now: datetime, offset: timedelta | None
) -> tuple[datetime, list[str]]:
    """When the record counts, and whether the clock looks wrong. Online: the server's time.
    Offline: the phone's time, corrected by the batch's measured clock offset."""
    flags = []
    if data.device_time is not None and timezone.is_naive(data.device_time):
        raise _err("invalid_time", "设备时间须带时区。", field="device_time")
    if offset is None:  # online
        if data.device_time is not None and abs(data.device_time - now) > CLOCK_SKEW:
            flags.append(Flag.CLOCK_SKEW)
        return now, flags
    if data.device_time is None:
        raise _err("device_time_required", "离线记录须带设备时间。", field="device_time")
    if abs(offset) > CLOCK_SKEW:
        flags.append(Flag.CLOCK_SKEW)
    try:
        at = data.device_time + offset
    except OverflowError:  # a clock thousands of years off, corrected past year 1 or 9999
        raise _err(
            "invalid_time", "设备时间不合理，请校准手机时间后重试。", field="device_time"
        ) from None
    if at > now + CLOCK_SKEW:
        raise _err(
            "device_time_in_future",
            "设备时间晚于当前时间，请校准手机时间后重试。",
            field="device_time",
        )
    at = min(at, now)
    if now - at > OFFLINE_MAX_AGE:
        raise _err(
            "offline_too_old", "离线记录已超过 3 天，请联系组织者补签。", field="device_time"
        )
    return at, flags


def _place(activity: Activity, data: CheckInData, at: datetime, flags: list[str], *, offline: bool):
    """Judge the position (GPS) or the code (QR); returns the method and the distance."""
    has_position = data.latitude is not None or data.longitude is not None
    if has_position and not valid_coordinates(data.latitude, data.longitude):
        raise _err(
            "invalid_coordinates", "坐标超出范围（纬度 -90~90，经度 -180~180）。", field="latitude"
        )
    if data.accuracy_m is not None and not 0 <= data.accuracy_m <= 100000:
        raise _err("invalid_accuracy", "定位精度数值不合理。", field="accuracy_m")
    distance = None
    if has_position:
        distance = round(
            haversine_m(activity.latitude, activity.longitude, data.latitude, data.longitude), 1
        )
        if data.accuracy_m is not None and data.accuracy_m > max(100, activity.radius_m):
            flags.append(Flag.LOW_ACCURACY)
    if data.qr_token:
        try:
            qr.check(data.qr_token, activity_id=activity.pk, scanned_at=at)
        except qr.BadToken as bad:
            raise _err(bad.code, _QR_MESSAGES[bad.code], field="qr_token") from None
        if distance is not None and distance > activity.radius_m:
            flags.append(Flag.OUTSIDE_FENCE)
        return CheckInMethod.QR, distance
    if distance is None:
        raise _err(
            "location_required", "请开启定位后签到，或扫描组织者的签到码。", field="latitude"
        )
    if distance > activity.radius_m:
        if not (offline or data.allow_review):
            raise _err(
                "outside_geofence",
                f"您距活动地点约 {distance:.0f} 米，超出签到范围（{activity.radius_m} 米）。"
                "请到现场后再签到；如确在现场，可提交人工审核。",
                field="latitude",
            )
        flags.append(Flag.OUTSIDE_FENCE)
    return CheckInMethod.GPS, distance


def _existing(member: Member, client_id, activity_id: int) -> CheckIn | None:
    found = CheckIn.objects.filter(member=member, client_id=client_id).first()
    if found is not None and found.activity_id != activity_id:
        raise Conflict(
            "该客户端编号已用于另一条签到记录。", code="client_id_reused", field="client_id"
        )
    return found


def _reading(user, activity: Activity):
    """What an attempt reads for `activity` (freshly read by the caller): the member file
    (read once per request), then the place and the records."""

    def read(at):
        member = _member(user)
        return activity, member, _read_place(activity, member, at)

    return read


def _reading_by_id(user, activity_id: int):
    """What an attempt reads for the activity `activity_id`: on PostgreSQL the activity, the
    member file and the place in one round trip — the visibility rule applied to them as
    `get_activity_for_user` applies it."""

    def read(at):
        if not hotpath.is_postgresql() or hasattr(user, "_hf_member"):
            return _reading(user, get_activity_for_user(user, activity_id))(at)
        activity, member, place = _read_together(user.pk, activity_id, at, by_user=True)
        # not kept as the user's member file (member_file_of): it holds only what a check-in
        # needs
        require_visible(user, activity, member)
        return activity, _required(member), place

    return read


def _timed(data: CheckInData, offset: timedelta | None):
    """(now, when the record counts, its flags, the refusal) — a refusal is judged after the
    retry lookup, so that a retry still gets its answer."""
    now = timezone.now()
    try:
        return now, *_timing(data, now, offset), None
    except DomainError as error:
        return now, now, [], error


# The previous record "up to any time": the member's latest (the speed check of an online
# record, whose own time is taken after the read).
_ANY_TIME = datetime.max.replace(tzinfo=UTC)


def _record(user, data: CheckInData, *, offset: timedelta | None, read) -> tuple[CheckIn, bool]:
    if data.kind not in CheckInKind.values:
        raise _err("invalid_choice", "kind 须为 in（签到）或 out（签退）。", field="kind")
    offline = offset is not None
    if offline:  # the phone's time, known before the read
        now, at, flags, refused = _timed(data, offset)
    activity, member, place = read(at if offline else _ANY_TIME)
    if not offline:
        # Online a record counts at the server's time, taken after the read: every record
        # the read found is then earlier, also one stored a moment before by another phone
        # of the same member — taken before the read, such a record could count as later
        # and escape the in/out sequence (the version check does not see time).
        now, at, flags, refused = _timed(data, offset)
    _confirmed(place, "您没有报名该活动（或仍在候补），不能签到。", status=403)
    history = place.history
    records = _own_records(history, activity)
    retried = [r.pk for r in records if r.client_id == data.client_id]
    if retried:
        return CheckIn.objects.get(pk=retried[0]), False
    if refused is not None:
        raise refused
    _check_window(activity, data.kind, at)
    _check_sequence(records, data.kind, at)
    method, distance = _place(activity, data, at, flags, offline=offline)
    lat = data.latitude if data.latitude is not None else activity.latitude
    lon = data.longitude if data.longitude is not None else activity.longitude
    if _speed_flag(history, at, lat, lon):
        flags.append(Flag.IMPOSSIBLE_SPEED)
    checkin = CheckIn(
        activity=activity,
        member=member,
        kind=data.kind,
        method=method,
        client_id=data.client_id,
        at=at,
        device_time=data.device_time,
        received_at=now,
        offline=offset is not None,
        latitude=data.latitude,
        longitude=data.longitude,
        accuracy_m=data.accuracy_m,
        distance_m=distance,
        flags=list(dict.fromkeys(flags)),
        flagged=bool(flags),
        recorded_by=user,
    )
    event = {
        "action": f"activity.check_{data.kind}",
        "actor": user,
        "target": activity,
        "unit": member.unit,
        "summary": {
            "checkin": checkin,
            "method": method,
            "flags": checkin.flags,
            "offline": checkin.offline,
        },
    }
    _store(place, checkin, event)  # a racing duplicate fails here: see _record_once
    return checkin, True


# A record judged again this many times because others kept being stored for the same place
# (one member's phones racing) is refused rather than looped on.
ATTEMPTS = 3


def _attempt():
    """Around one attempt: a savepoint inside a caller's transaction (a failed attempt must
    leave it usable), a transaction on SQLite (its read and writes are several statements);
    on PostgreSQL otherwise nothing — the attempt's one write is atomic on its own, and a
    transaction would cost two round trips more."""
    if connection.in_atomic_block or not hotpath.is_postgresql():
        return transaction.atomic()
    return nullcontext()


def _in_turn(write):
    """Run `write()`, again from the start while it raises _Busy."""
    for _ in range(ATTEMPTS):
        try:
            with _attempt():
                return write()
        except _Busy:
            continue
    raise Conflict("签到记录正在被同时提交，请稍后重试。", code="checkin_busy")


def _record_once(user, activity_id: int, data: CheckInData, *, offset, read):
    """One record, stored at most once. The same client id sent twice at once: the second
    insert hits the unique constraint, its write rolls back, and it answers with the first
    one's record."""
    try:
        return _in_turn(lambda: _record(user, data, offset=offset, read=read))
    except IntegrityError:
        found = _existing(member_of(user), data.client_id, activity_id)
        if found is None:
            raise
        return found, False


def check_in(*, user, activity: Activity, data: CheckInData) -> tuple[CheckIn, bool]:
    """Record one online check-in or check-out. Returns (record, created); a retry with the same
    client id returns the original record and creates nothing. `activity` must be freshly read
    (the caller has just read it): its status and window are judged as given."""
    return _record_once(user, activity.pk, data, offset=None, read=_reading(user, activity))


def check_in_by_id(*, user, activity_id, data: CheckInData) -> tuple[CheckIn, bool]:
    """`check_in` for the activity `activity_id` as the user may see it (NotFound otherwise) —
    the check-in endpoint's way: on PostgreSQL the activity is read with everything else the
    check-in is judged on, in one round trip."""
    activity_id = access.parse_id(activity_id)
    return _record_once(
        user, activity_id, data, offset=None, read=_reading_by_id(user, activity_id)
    )


@dataclass
class BatchResult:
    client_id: uuid.UUID
    checkin: CheckIn | None
    created: bool
    error: DomainError | None


def _sort_time(device_time: datetime | None, sent_at: datetime) -> datetime:
    """Where a record goes in the batch's order. One without a time zone cannot be compared
    with the others; it is refused on its own turn (_timing), so it sorts as sent."""
    if device_time is None or timezone.is_naive(device_time):
        return sent_at
    return device_time


def sync_offline(
    *, user, sent_at: datetime, items: list[tuple[Activity, CheckInData]]
) -> list[BatchResult]:
    """A queued batch from a phone that was offline. `sent_at` is the phone's clock at sending;
    its difference from the server's clock corrects every record's device time (and flags a
    wrong clock). Each record stands alone: its own answer, its own transaction, so one bad
    record neither blocks nor hides the others. Records are applied in the order they happened."""
    if timezone.is_naive(sent_at):
        raise _err("invalid_time", "发送时间须带时区。", field="sent_at")
    offset = timezone.now() - sent_at
    if abs(offset) <= timedelta(seconds=60):
        offset = timedelta(0)  # network delay, not a wrong clock
    ordered = sorted(items, key=lambda item: _sort_time(item[1].device_time, sent_at))
    results = []
    for activity, data in ordered:
        try:
            checkin, created = _record_once(
                user, activity.pk, data, offset=offset, read=_reading(user, activity)
            )
            results.append(BatchResult(data.client_id, checkin, created, None))
        except DomainError as error:
            results.append(BatchResult(data.client_id, None, False, error))
    return results


def manual_check_in(
    *,
    actor,
    activity: Activity,
    member: Member,
    kind: str,
    at: datetime | None,
    reason: str,
    client_id=None,
) -> tuple[CheckIn, bool]:
    """The organiser records a check-in or check-out for a participant (a phone without signal,
    a dead battery), with a reason; audited (5.2.9)."""
    access.require(actor, "activities.manage", activity.unit, "您无权为该活动补签。")
    reason = " ".join((reason or "").split())
    if not reason:
        raise _err("reason_required", "请填写补签原因。", field="reason")
    if len(reason) > 200:
        raise _err("too_long", "原因过长（最多200字）。", field="reason")
    if kind not in CheckInKind.values:
        raise _err("invalid_choice", "kind 须为 in（签到）或 out（签退）。", field="kind")
    client_id = client_id or uuid.uuid4()
    if at is not None and timezone.is_naive(at):
        raise _err("invalid_time", "时间须带时区。", field="at")

    def write():
        place = _confirmed(
            _read_place(activity, member, None),
            "该队员没有报名该活动（或仍在候补）。",
            field="member_id",
        )
        found = _existing(member, client_id, activity.pk)
        if found is not None:
            return found, False
        now = timezone.now()  # after the read: see _record
        when = at or now
        if when > now + CLOCK_SKEW:
            raise _err("time_in_future", "补签时间不能晚于现在。", field="at")
        _check_window(activity, kind, when)
        _check_sequence(place.history, kind, when)
        checkin = CheckIn(
            activity=activity,
            member=member,
            kind=kind,
            method=CheckInMethod.MANUAL,
            client_id=client_id,
            at=when,
            received_at=now,
            reason=reason,
            recorded_by=actor,
        )
        event = {
            "action": "activity.manual_check_in",
            "actor": actor,
            "target": activity,
            "unit": activity.unit,
            "summary": {"checkin": checkin, "member": member.pk, "kind": kind, "reason": reason},
        }
        _store(place, checkin, event)
        return checkin, True

    return _in_turn(write)


def pending_reviews(activity: Activity):
    """Flagged records without a review yet."""
    return CheckIn.objects.filter(activity=activity, flagged=True, reviews__isnull=True)


@transaction.atomic
def review_check_in(*, actor, checkin: CheckIn, decision: str, reason: str) -> CheckInReview:
    """Accept or reject a flagged record (append-only: a later review supersedes an earlier one
    until the activity is evaluated)."""
    activity = Activity.objects.select_for_update().get(pk=checkin.activity_id)
    access.require(actor, "activities.manage", activity.unit, "您无权审核该签到。")
    if not checkin.flagged:
        raise DomainError("该记录没有异常标记，无需审核。", code="not_flagged")
    if activity.status == ActivityStatus.EVALUATED:
        raise DomainError(
            "活动已评价，时长已结算；如需调整请做时长更正。", code="already_evaluated"
        )
    if decision not in ReviewDecision.values:
        raise DomainError(
            "审核结论须为 accepted 或 rejected。", code="invalid_choice", field="decision"
        )
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise DomainError("请填写审核理由（200字以内）。", code="reason_required", field="reason")
    review = CheckInReview.objects.create(
        checkin=checkin,
        decision=decision,
        reason=reason,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
    )
    record_event(
        action="activity.check_in_reviewed",
        actor=actor,
        target=activity,
        unit=activity.unit,
        summary={"checkin": checkin.pk, "decision": decision},
    )
    return review


def auto_check_out(activity: Activity) -> int:
    """Check out, at the activity's end, everyone still checked in once the grace period is
    over — flagged for review. Claimed by a conditional update, so running it twice (or two
    sweeps at once) adds nothing."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Activity.objects.filter(
            pk=activity.pk, checkouts_swept_at__isnull=True, checkout_due_at__lte=now
        ).update(checkouts_swept_at=now)
        if not claimed:
            return 0
        # moves every place's version on (and holds the rows): a check-in judged before this
        # sweep's read is judged again after it (see _store)
        Participation.objects.filter(activity=activity).update(
            checkin_version=F("checkin_version") + 1
        )
        still_in = _still_checked_in(activity)
        rows = [
            CheckIn(
                activity=activity,
                member_id=member_id,
                kind=CheckInKind.OUT,
                method=CheckInMethod.AUTO,
                client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"hongfeng:auto-out:{last_in_id}"),
                at=max(activity.ends_at, last_at),
                received_at=now,
                flags=[Flag.AUTO_CHECKOUT],
                flagged=True,
            )
            for member_id, last_in_id, last_at in still_in
        ]
        CheckIn.objects.bulk_create(rows, ignore_conflicts=True)
        if rows:
            record_event(
                action="activity.auto_check_out",
                target=activity,
                unit=activity.unit,
                summary={"members": len(rows)},
                actor_label="系统",
            )
        return len(rows)


def _still_checked_in(activity: Activity) -> list[tuple[int, int, datetime]]:
    """(member, last check-in id, its time) for everyone whose last counted record is a check-in."""
    last: dict[int, tuple[str, int, datetime]] = {}
    rows = (
        CheckIn.objects.filter(activity=activity)
        .annotate(last_review=Subquery(_latest_review()))
        .order_by("at", "id")
        .values_list("member_id", "kind", "id", "at", "last_review")
    )
    for member_id, kind, pk, at, review in rows:
        if review not in NOT_COUNTED:
            last[member_id] = (kind, pk, at)
    return [(m, pk, at) for m, (kind, pk, at) in last.items() if kind == CheckInKind.IN]


def get_checkin_for_user(user, checkin_id) -> CheckIn:
    checkin = (
        CheckIn.objects.select_related("activity__unit", "member")
        .filter(pk=access.parse_id(checkin_id))
        .first()
    )
    if checkin is None or not access.can(user, "activities.view", checkin.activity.unit):
        raise NotFound()
    return checkin


__all__ += ["BatchResult", "get_checkin_for_user"]
