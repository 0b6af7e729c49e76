"""Reads of activities through the access choke point (Activity.objects.visible_to)."""

import math
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities.geo import haversine_m
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    CheckIn,
    HoursEntry,
    Participation,
    ParticipationStatus,
    own_member,
)
from hongfeng.activities.services import Reason, eligibility_for_page
from hongfeng.activities.services.checkins import _still_checked_in

# The statuses of `ActivityQuerySet.open_for_signup`, for the API's "near me" filter.
UPCOMING = sorted(ActivityStatus.OPEN_FOR_SIGNUP)
# "只看我能报名的" judges this many of the soonest open activities in reach (a volunteer sees
# those addressed to their own units: a few dozen at most in practice).
JOINABLE_SCAN = 300
FULL = Reason("activity_full", "名额和候补均已满。")


def activities_for(
    user,
    *,
    status: str | None = None,
    kind: str | None = None,
    unit=None,
    manage: bool = False,
    upcoming: bool = False,
):
    """Activities the user may see (or manage), newest first, filtered."""
    capability = "activities.manage" if manage else "activities.view"
    rows = Activity.objects.visible_to(user, capability).select_related("unit", "audience_unit")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if unit is not None:
        rows = rows.filter(Q(unit__path__startswith=unit.path) | Q(audience_unit=unit))
    if upcoming:
        rows = rows.open_for_signup(timezone.now()).order_by("starts_at", "id")
    return rows


def why_not(user, activities, mine: dict) -> dict[int, list[Reason]]:
    """For each activity of a page the user has not signed up for or joined the waitlist of
    (`mine`: their participations by activity id), every reason they cannot sign up — the
    same eligibility reasons the detail page gives, plus a full activity — in a fixed number
    of queries whatever the page size (eligibility_for_page)."""
    member = own_member(user)
    if member is None:
        return {}
    todo = [a for a in activities if a.pk not in mine or not mine[a.pk].is_active]
    reasons = eligibility_for_page(member, todo)
    for a in todo:
        if a.is_full:
            reasons[a.pk].append(FULL)
    return reasons


def joinable(user) -> list[Activity]:
    """The open activities the user can sign up for now (可报名): eligible, not full, and not
    already signed up or waiting — the soonest first. The home page counts these and the
    activity list's filter shows them, so the two always agree."""
    member = own_member(user)
    if member is None:
        return []
    candidates = list(activities_for(user, upcoming=True)[:JOINABLE_SCAN])
    answered = set(
        Participation.objects.active()
        .filter(member=member, activity__in=[a.pk for a in candidates])
        .values_list("activity_id", flat=True)
    )
    candidates = [a for a in candidates if a.pk not in answered]
    reasons = eligibility_for_page(member, candidates)
    return [a for a in candidates if not reasons[a.pk] and not a.is_full]


def broadcast_answers(user, notices) -> dict:
    """The inbox's view of activity broadcasts (registered with notices.answers): for each
    notice whose activity the member already answered, or that is over, where it stands —
    已报名 / 候补中 / 已婉拒 / 活动已结束 … — so 报名 is offered only while it is the next step.
    Two queries for the whole page."""
    from hongfeng.notices.answers import AnswerState

    wanted = {}
    for notice in notices:
        prefix, _, raw = notice.ref.partition(":")
        if prefix == "activity" and raw.isdigit():
            wanted[notice.pk] = int(raw)
    if not wanted:
        return {}
    found = {
        a.pk: a
        for a in Activity.objects.visible_to(user)
        .filter(pk__in=set(wanted.values()))
        .only("id", "status", "ends_at")
    }
    member = own_member(user)
    mine = {}
    if member is not None:
        rows = Participation.objects.filter(member=member, activity_id__in=list(found))
        mine = {p.activity_id: p for p in rows}
    now = timezone.now()
    states = {}
    for notice_id, activity_id in wanted.items():
        activity = found.get(activity_id)
        state = activity and _answer_state(activity, mine.get(activity_id), now)
        if state:
            states[notice_id] = AnswerState(*state)
    return states


def _answer_state(activity: Activity, mine: Participation | None, now) -> tuple | None:
    if mine is not None and mine.is_active:
        return mine.status, mine.get_status_display()
    if activity.status == ActivityStatus.CANCELLED:
        return ActivityStatus.CANCELLED, "活动已取消"
    if not activity.open_for_signup or activity.ends_at <= now:
        return ActivityStatus.FINISHED, "活动已结束"
    if mine is not None and mine.status == ParticipationStatus.DECLINED:
        return mine.status, "已婉拒"
    if mine is not None:
        return mine.status, "已取消报名"
    return None


def near(rows, lat: float, lon: float, *, limit: int = 50) -> list[tuple[Activity, float]]:
    """Open activities sorted by distance from a point (a coarse box first, then haversine)."""
    box = 0.5  # degrees ≈ 55 km: "near me" means the same city
    scale = max(math.cos(math.radians(lat)), 0.1)
    rows = rows.filter(
        latitude__range=(lat - box, lat + box),
        longitude__range=(lon - box / scale, lon + box / scale),
    )
    ranked = [(a, haversine_m(lat, lon, a.latitude, a.longitude)) for a in rows[:500]]
    ranked.sort(key=lambda pair: pair[1])
    return ranked[:limit]


def my_participations(user):
    """The user's own sign-ups (not declined), soonest activity first."""
    member = own_member(user)
    if member is None:
        return Participation.objects.none()
    return (
        Participation.objects.filter(member=member)
        .exclude(status=ParticipationStatus.DECLINED)
        .select_related("activity__unit")
        .order_by("-activity__starts_at", "-id")
    )


def my_settled_hours(user, activity_ids) -> dict:
    """Settled hours per activity for the user's own file (evaluated activities only)."""
    member = own_member(user)
    if member is None:
        return {}
    rows = (
        HoursEntry.objects.filter(member=member, activity_id__in=list(activity_ids))
        .values("activity_id")
        .annotate(total=Sum("hours"))
    )
    return {r["activity_id"]: r["total"] for r in rows}


def hours_between(member, start, end):
    """The member's settled hours for activities that started in [start, end)."""
    total = HoursEntry.objects.filter(
        member=member, activity__starts_at__gte=start, activity__starts_at__lt=end
    ).aggregate(total=Sum("hours"))["total"]
    return total or Decimal("0")


def service_record(member) -> dict:
    """The member file's service section (一人一档 5.2.7): settled hours in total, the number of
    activities served, and the most recent ones with their hours and rating."""
    totals = HoursEntry.objects.filter(member=member).aggregate(
        hours=Sum("hours"), activities=Count("activity", distinct=True)
    )
    recent = list(
        Participation.objects.filter(member=member, status=ParticipationStatus.CONFIRMED)
        .select_related("activity")
        .order_by("-activity__starts_at")[:10]
    )
    hours = dict(
        HoursEntry.objects.filter(member=member, activity__in=[p.activity_id for p in recent])
        .values_list("activity_id")
        .annotate(total=Sum("hours"))
        .values_list("activity_id", "total")
    )
    return {
        "total_hours": totals["hours"] or 0,
        "activity_count": totals["activities"],
        "recent": [(p.activity, hours.get(p.activity_id), p) for p in recent],
    }


def my_participation(user, activity: Activity) -> Participation | None:
    member = own_member(user)
    if member is None:
        return None
    return Participation.objects.filter(activity=activity, member=member).first()


def my_checkins(user, activity: Activity):
    member = own_member(user)
    if member is None:
        return CheckIn.objects.none()
    return CheckIn.objects.filter(activity=activity, member=member).order_by("at", "id")


def checked_in_now(user, activity: Activity) -> bool:
    member = own_member(user)
    if member is None:
        return False
    return any(m == member.pk for m, _pk, _at in _still_checked_in(activity))


def live_counts(activity: Activity) -> dict:
    """What the organiser watches: notified, answered, checked in, flagged."""
    by_status = dict(
        Participation.objects.filter(activity=activity)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "notified": activity.notified_count,
        "confirmed": by_status.get(ParticipationStatus.CONFIRMED, 0),
        "waitlisted": by_status.get(ParticipationStatus.WAITLISTED, 0),
        "declined": by_status.get(ParticipationStatus.DECLINED, 0),
        "cancelled": by_status.get(ParticipationStatus.CANCELLED, 0),
        "checked_in": len(_still_checked_in(activity)),
        "flagged": CheckIn.objects.filter(
            activity=activity, flagged=True, reviews__isnull=True
        ).count(),
    }


def participants(activity: Activity, statuses=ParticipationStatus.ACTIVE):
    return (
        Participation.objects.filter(activity=activity, status__in=sorted(statuses))
        .select_related("member__unit", "member__user")
        .order_by("status", "queued_at", "id")
    )


def checkins_of(activity: Activity, *, flagged: bool | None = None):
    rows = (
        CheckIn.objects.filter(activity=activity)
        .select_related("member__unit")
        .prefetch_related("reviews")
    )
    if flagged is not None:
        rows = rows.filter(flagged=flagged)
    return rows.order_by("-at", "-id")


def attendance_teams(user):
    """Teams whose 公示 the user may publish."""
    from hongfeng.orgs.models import Unit, UnitKind

    return Unit.objects.visible_to(user, "activities.publish_notice").filter(
        kind=UnitKind.TEAM, archived_at__isnull=True
    )


def can_manage(user, activity: Activity) -> bool:
    return access.can(user, "activities.manage", activity.unit)


__all__ = [
    "activities_for",
    "attendance_teams",
    "broadcast_answers",
    "can_manage",
    "checked_in_now",
    "checkins_of",
    "hours_between",
    "joinable",
    "live_counts",
    "my_checkins",
    "my_participation",
    "my_participations",
    "my_settled_hours",
    "near",
    "participants",
    "service_record",
    "why_not",
]
