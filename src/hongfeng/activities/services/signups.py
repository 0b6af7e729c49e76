"""Sign-up (5.2.3): capacity is never exceeded — every sign-up and cancellation takes the
activity's row lock and moves its counters in the same transaction; a cancellation promotes the
first person on the waitlist. Signing up twice returns the existing answer."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    Participation,
    ParticipationStatus,
)
from hongfeng.activities.services.eligibility import (
    eligibility,
    load_eligibility_facts,
    member_of,
)
from hongfeng.audit.services import record_event
from hongfeng.core import hotpath
from hongfeng.core.errors import Conflict, DomainError
from hongfeng.members.models import Member

__all__ = ["Ineligible", "cancel_sign_up", "decline", "promote_waitlist", "sign_up"]

ACTIVE = ParticipationStatus.ACTIVE


class Ineligible(DomainError):
    """The member does not meet the activity's conditions; `reasons` lists each one."""

    status = 422
    code = "not_eligible"

    def __init__(self, reasons):
        super().__init__("您暂不符合报名条件：" + "；".join(r.message for r in reasons))
        self.reasons = reasons

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
        }


def _own_member(user) -> Member:
    """The caller's member file (read once per request user; see member_of)."""
    member = member_of(user)
    if member is None:
        raise DomainError("您还没有队员档案，不能报名活动。", code="no_member_file")
    return member


def _locked(activity: Activity) -> Activity:
    return Activity.objects.select_for_update().select_related("audience_unit").get(pk=activity.pk)


def sign_up(*, user, activity: Activity) -> Participation:
    """Join the activity: a confirmed place while places remain, else the waitlist, else a
    409. The member must meet every condition (eligibility, with reasons). The same member
    signing up twice at once gets one place: the loser of the race finds the winner's row.
    `activity` must be freshly read (the endpoint has just read it): a copy that already shows
    every place and the waitlist taken is answered 409 without asking the database again."""
    try:
        return _sign_up(user=user, activity=activity)
    except IntegrityError:  # the same member's parallel request inserted first
        member = _own_member(user)
        return Participation.objects.get(activity=activity, member=member)


def _sign_up(*, user, activity: Activity) -> Participation:
    # The hot path of a 一呼百应 burst: the member file was read by the visibility check, and
    # everything else is read with SQL built once (core.hotpath) — on this path compiling the
    # ORM's SQL cost more than running it. The refusals come before any transaction: most of
    # a burst is refused, and a refusal writes nothing.
    member = _own_member(user)
    existing = hotpath.fetch_one(
        Participation, "t0.activity_id = %s AND t0.member_id = %s", [activity.pk, member.pk]
    )
    if existing is not None and existing.status in ACTIVE:
        return existing  # already in: the same answer again, nothing new
    if timezone.now() >= activity.ends_at:
        raise DomainError("该活动当前不接受报名。", code="signup_closed")
    if activity.is_full:
        # The row the endpoint read a moment ago is already full: the eligibility facts are
        # not read and the activity's row lock is not touched. A place freed in that same
        # moment is a race either answer may win; capacity is never at risk.
        _refuse(activity.open_for_signup)
    return _take_place_for(user, activity, member, existing)


@transaction.atomic
def _take_place_for(user, activity: Activity, member, existing) -> Participation:
    """The member meets every condition: a place or the waitlist, the row, the audit event —
    one transaction."""
    load_eligibility_facts(member, activity)
    reasons = eligibility(member, activity)
    if reasons:
        raise Ineligible(reasons)
    status = _take_place(activity)  # the status is judged in the database, never from a copy
    now = timezone.now()
    new = None
    if existing is None:
        participation = new = Participation(
            activity=activity, member=member, status=status, queued_at=now, updated_at=now
        )
    else:
        existing.status, existing.queued_at, existing.updated_at = status, now, now
        existing.save(update_fields=["status", "queued_at", "updated_at"])
        participation = existing
    record_event(
        action="activity.signed_up",
        actor=user,
        target=activity,
        unit=member.unit,
        summary={"status": status, "participation": participation},
        inserting=new,
    )
    return participation


# One conditional UPDATE each (the first that changes a row wins): it takes the activity's row
# lock, so concurrent sign-ups queue on it and each re-checks the condition on the newest row.
_TAKE = (
    "UPDATE activities_activity SET {counter} = {counter} + 1 WHERE id = %s AND status IN "
    "(%s, %s) AND ends_at > %s AND {counter} < {limit}"
)
_OPEN = sorted(ActivityStatus.OPEN_FOR_SIGNUP)  # the two statuses named above
_TAKE_CONFIRMED = _TAKE.format(counter="confirmed_count", limit="capacity")
_TAKE_WAITLISTED = _TAKE.format(counter="waitlist_count", limit="waitlist_limit")


def _take_place(activity: Activity) -> str:
    """Count the member in: a confirmed place while places remain, else the waitlist, else a
    409. Capacity can never be exceeded."""
    params = [activity.pk, *_OPEN, hotpath.db_value(Activity, "ends_at", timezone.now())]
    if hotpath.execute(_TAKE_CONFIRMED, params):
        return ParticipationStatus.CONFIRMED
    if hotpath.execute(_TAKE_WAITLISTED, params):
        return ParticipationStatus.WAITLISTED
    still_open = hotpath.fetch_one(
        Activity, "t0.id = %s AND t0.status IN (%s, %s) AND t0.ends_at > %s", params
    )
    _refuse(still_open is not None)


def _refuse(still_open: bool):
    if not still_open:
        raise DomainError("该活动当前不接受报名。", code="signup_closed")
    raise Conflict("名额和候补均已满。", code="activity_full")


def _leave(activity: Activity, participation: Participation, to: str) -> Member | None:
    """Take the participation out of the counts; promote the first waiter into a freed place.
    Returns the promoted member, if any."""
    was = participation.status
    participation.status, participation.updated_at = to, timezone.now()
    participation.save(update_fields=["status", "updated_at"])
    if was == ParticipationStatus.WAITLISTED:
        Activity.objects.filter(pk=activity.pk).update(waitlist_count=F("waitlist_count") - 1)
        return None
    if was != ParticipationStatus.CONFIRMED:
        return None
    first = (
        Participation.objects.select_for_update()
        .filter(activity=activity, status=ParticipationStatus.WAITLISTED)
        .select_related("member__user")
        .order_by("queued_at", "id")
        .first()
    )
    if first is None:
        Activity.objects.filter(pk=activity.pk).update(confirmed_count=F("confirmed_count") - 1)
        return None
    first.status, first.updated_at = ParticipationStatus.CONFIRMED, timezone.now()
    first.save(update_fields=["status", "updated_at"])
    Activity.objects.filter(pk=activity.pk).update(waitlist_count=F("waitlist_count") - 1)
    return first.member


def promote_waitlist(activity: Activity) -> list[Member]:
    """Fill free places from the waitlist, first come first served (after the capacity was
    raised). The caller holds the activity's row lock. Everyone promoted is told."""
    activity.refresh_from_db(fields=["capacity", "confirmed_count", "waitlist_count"])
    free = activity.capacity - activity.confirmed_count
    if free <= 0 or not activity.waitlist_count:
        return []
    rows = list(
        Participation.objects.select_for_update()
        .filter(activity=activity, status=ParticipationStatus.WAITLISTED)
        .select_related("member__user")
        .order_by("queued_at", "id")[:free]
    )
    now = timezone.now()
    for row in rows:
        row.status, row.updated_at = ParticipationStatus.CONFIRMED, now
    Participation.objects.bulk_update(rows, ["status", "updated_at"])
    Activity.objects.filter(pk=activity.pk).update(
        confirmed_count=F("confirmed_count") + len(rows),
        waitlist_count=F("waitlist_count") - len(rows),
    )
    for row in rows:
        _tell_promoted(activity, row.member)
    return [row.member for row in rows]


def _tell_promoted(activity: Activity, member: Member) -> None:
    from hongfeng.notices.services import notify_all

    notify_all(
        user=member.user,
        kind="activity_promoted",
        title=f"候补成功：{activity.title}"[:60],
        body=f"有人取消报名，您已从候补转为正式报名「{activity.title}」。请按时参加。",
        ref=f"activity:{activity.pk}:promoted:{member.pk}",
        link=f"/activities/{activity.pk}/",
    )


@transaction.atomic
def cancel_sign_up(*, user, activity: Activity) -> Participation:
    """Withdraw before the start; the first person waiting takes the place and is told."""
    member = _own_member(user)
    activity = _locked(activity)
    participation = (
        Participation.objects.select_for_update().filter(activity=activity, member=member).first()
    )
    if participation is None or participation.status not in ACTIVE:
        raise DomainError("您没有报名该活动。", code="not_signed_up")
    if timezone.now() >= activity.starts_at:
        raise DomainError(
            "活动已开始，不能取消报名；如有变故请联系组织者。", code="too_late_to_cancel"
        )
    promoted = _leave(activity, participation, ParticipationStatus.CANCELLED)
    record_event(
        action="activity.sign_up_cancelled",
        actor=user,
        target=activity,
        unit=member.unit,
        summary={"promoted": promoted.pk if promoted else None},
    )
    if promoted is not None:
        _tell_promoted(activity, promoted)
    return participation


@transaction.atomic
def decline(*, user, activity: Activity) -> Participation:
    """Answer a broadcast with "no" (一呼百应: the organiser sees who declined). Someone already
    signed up who declines withdraws their sign-up."""
    member = _own_member(user)
    activity = _locked(activity)
    participation = (
        Participation.objects.select_for_update().filter(activity=activity, member=member).first()
    )
    if participation is not None and participation.status == ParticipationStatus.DECLINED:
        return participation
    if participation is not None and participation.status in ACTIVE:
        if timezone.now() >= activity.starts_at:
            raise DomainError(
                "活动已开始，不能取消报名；如有变故请联系组织者。", code="too_late_to_cancel"
            )
        promoted = _leave(activity, participation, ParticipationStatus.DECLINED)
        if promoted is not None:
            _tell_promoted(activity, promoted)
    elif participation is not None:
        participation.status, participation.updated_at = (
            ParticipationStatus.DECLINED,
            timezone.now(),
        )
        participation.save(update_fields=["status", "updated_at"])
    else:
        if not activity.open_for_signup:
            raise DomainError("该活动当前不接受报名。", code="signup_closed")
        now = timezone.now()
        participation = Participation.objects.create(
            activity=activity,
            member=member,
            status=ParticipationStatus.DECLINED,
            queued_at=now,
            updated_at=now,
        )
    record_event(action="activity.declined", actor=user, target=activity, unit=member.unit)
    return participation
