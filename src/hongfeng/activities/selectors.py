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
)
from hongfeng.activities.services import member_of
from hongfeng.activities.services.checkins import _still_checked_in

UPCOMING = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS)


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
        rows = rows.filter(status__in=UPCOMING, ends_at__gt=timezone.now()).order_by(
            "starts_at", "id"
        )
    return rows


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
    member = member_of(user)
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
    member = member_of(user)
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
    member = member_of(user)
    if member is None:
        return None
    return Participation.objects.filter(activity=activity, member=member).first()


def my_checkins(user, activity: Activity):
    member = member_of(user)
    if member is None:
        return CheckIn.objects.none()
    return CheckIn.objects.filter(activity=activity, member=member).order_by("at", "id")


def checked_in_now(user, activity: Activity) -> bool:
    member = member_of(user)
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


def participants(
    activity: Activity, statuses=(ParticipationStatus.CONFIRMED, ParticipationStatus.WAITLISTED)
):
    return (
        Participation.objects.filter(activity=activity, status__in=statuses)
        .select_related("member__unit", "member__user")
        .order_by("status", "queued_at", "id")
    )


def checkins_of(activity: Activity, *, flagged: bool | None = None):
    rows = (
        CheckIn.objects.filter(activity=activity)
        .select_related("member")
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
    "can_manage",
    "checked_in_now",
    "checkins_of",
    "hours_between",
    "live_counts",
    "my_checkins",
    "my_participation",
    "my_participations",
    "my_settled_hours",
    "near",
    "participants",
    "service_record",
]
