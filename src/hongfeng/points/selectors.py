"""Reads of points: a member's totals (one row, never the ledger), their entries, the boards,
and the star-rating runs in the user's sight."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hongfeng.accounts.access import parse_id
from hongfeng.activities.models import HoursEntry
from hongfeng.activities.services.attendance import month_bounds
from hongfeng.core.db_routing import replica_reads
from hongfeng.core.errors import NotFound
from hongfeng.core.masking import mask_name
from hongfeng.members.models import SERVING, Member
from hongfeng.orgs.models import Unit, UnitKind
from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry, RatingRun, TeamRating


def summary(member) -> dict:
    """Totals, level and the way to the next level, from the cached row."""
    row = MemberPoints.objects.filter(member=member).first()
    earned = row.earned if row else Decimal(0)
    balance = row.balance if row else Decimal(0)
    level = row.level if row else 0
    upcoming = rules.next_level(level)
    floor = rules.LEVELS[level - 1][0] if level else 0
    progress = None
    if upcoming:
        span = upcoming[0] - floor
        progress = int(max(min((earned - floor) / span * 100, 100), 0)) if span else 100
    return {
        "earned": earned,
        "balance": balance,
        "level": level,
        "level_label": rules.level_label(level),
        "next_level_label": upcoming[1] if upcoming else None,
        "next_threshold": upcoming[0] if upcoming else None,
        "to_next": (Decimal(upcoming[0]) - earned) if upcoming else None,
        "progress": progress,
    }


def entries_of(member):
    return (
        PointsEntry.objects.filter(member=member)
        .select_related("activity")
        .order_by("-created_at", "-id")
    )


def previous_month(month):
    """The first day of the month before `month` (a first of a month)."""
    return (month - timedelta(days=1)).replace(day=1)


def _in_month(start, end):
    """Ledger entries that belong to the month [start, end): an activity's points (and their
    corrections) by the day the activity took place, whenever it was evaluated; other entries
    (awards, penalties, redemptions) by the day they were made. The annual team rating counts
    by the activity's start as well (services.team_points)."""
    return Q(
        points_entries__activity__starts_at__gte=start,
        points_entries__activity__starts_at__lt=end,
    ) | Q(
        points_entries__activity__isnull=True,
        points_entries__created_at__gte=start,
        points_entries__created_at__lt=end,
    )


def _streak(seen: set, month, *, running: bool) -> int:
    """Consecutive months with settled service ending at `month`. While `month` is still
    running (`running`), a streak that ran to the month before is still a streak: on the 1st
    nobody has served yet this month, and nobody has broken their run either."""
    cursor = month
    if running and (month.year, month.month) not in seen:
        cursor = previous_month(month)
    run = 0
    while (cursor.year, cursor.month) in seen:
        run += 1
        cursor = previous_month(cursor)
    return run


@replica_reads
def leaderboard(unit, month, *, size: int = 10) -> dict:
    """Boards that do not discourage people with less time (issue 5): besides the month's
    totals, the longest runs of consecutive months with service and the biggest improvement on
    the month before — members of `unit`'s subtree, names masked. Aggregates a whole subtree's
    ledger, so it reads the replica when one is configured (a board may trail by its lag)."""
    start, end = month_bounds(month)
    prev_start, _ = month_bounds(previous_month(month))
    members = Member.objects.filter(unit__path__startswith=unit.path, status__in=SERVING)
    rows = (
        members.annotate(
            this=Sum("points_entries__earned", filter=_in_month(start, end)),
            last=Sum("points_entries__earned", filter=_in_month(prev_start, start)),
        )
        .filter(Q(this__isnull=False) | Q(last__isnull=False))
        .select_related("unit")
    )
    people = {
        m.pk: {
            "name": mask_name(m.name),
            "unit": m.unit.name,
            "this": m.this or Decimal(0),
            "last": m.last or Decimal(0),
        }
        for m in rows
    }
    # Months with settled service, over the last year, for the streaks.
    year_ago = month_bounds(month.replace(year=month.year - 1))[0]
    served = (
        HoursEntry.objects.filter(
            member__in=members, activity__starts_at__gte=year_ago, activity__starts_at__lt=end
        )
        .annotate(m=TruncMonth("activity__starts_at"))
        .values_list("member_id", "m")
        .distinct()
    )
    months: dict[int, set] = {}
    for member_id, m in served:
        months.setdefault(member_id, set()).add((m.year, m.month))
    running = end > timezone.now()
    streaks = {
        member_id: run
        for member_id, seen in months.items()
        if (run := _streak(seen, month, running=running))
    }
    names = {
        m.pk: (mask_name(m.name), m.unit.name)
        for m in Member.objects.filter(pk__in=streaks).select_related("unit")
    }
    top = sorted(people.values(), key=lambda p: -p["this"])[:size]
    improved = sorted(
        ({**p, "delta": p["this"] - p["last"]} for p in people.values() if p["this"] > p["last"]),
        key=lambda p: -p["delta"],
    )[:size]
    steady = sorted(
        ({"name": names[m][0], "unit": names[m][1], "months": n} for m, n in streaks.items()),
        key=lambda p: -p["months"],
    )[:size]
    return {"top": [p for p in top if p["this"] > 0], "improved": improved, "steady": steady}


@replica_reads
def level_distribution(unit) -> list[dict]:
    """Commendation statistics per unit directly below `unit` (5.4.5): serving members by level
    — two queries whatever the number of units, on the replica when one is configured."""
    children = list(Unit.objects.filter(parent=unit, archived_at__isnull=True).order_by("name"))
    children = children or [unit]
    rows = (
        MemberPoints.objects.filter(
            member__unit__path__startswith=unit.path, member__status__in=SERVING
        )
        .values_list("member__unit__path", "level")
        .annotate(n=Count("member"))
    )
    table = {child.pk: [0] * len(rules.LEVELS) for child in children}
    for path, level, n in rows:
        owner = next((c for c in children if path.startswith(c.path)), None)
        if owner is not None and level > 0:
            table[owner.pk][level - 1] += n
    return [
        {"unit": child, "levels": table[child.pk], "with_level": sum(table[child.pk])}
        for child in children
    ]


def runs_for(user):
    """Star-rating runs (7.2.3) the user may read: every run of an association they can see
    (association staff, published or not), and every *published* run that rated a team they
    can see or belong to — a captain, a squad leader, a station officer or a volunteer sees
    their team's published stars although the association itself lies outside their reach
    (published runs are public anyway). Newest first."""
    visible = Unit.objects.visible_to(user)
    # a team in reach, or the team of a squad or group in reach (a squad leader's own team)
    ours = Q(team__in=visible.filter(kind=UnitKind.TEAM)) | Q(
        team__in=visible.filter(team__isnull=False).values("team")
    )
    rated_here = TeamRating.objects.filter(ours, run=OuterRef("pk"))
    return (
        RatingRun.objects.filter(
            Q(association__in=visible) | Q(published=True) & Exists(rated_here)
        )
        .select_related("association", "created_by")
        .prefetch_related("results__team")
    )


def get_run_for_user(user, run_id, *, staff: bool = False):
    """One run the user may read (`runs_for`), else NotFound (404). `staff`: only if the
    association itself is in reach — the re-check reads the whole association's ledger, not
    just the published result."""
    runs = runs_for(user)
    if staff:
        runs = runs.filter(association__in=Unit.objects.visible_to(user))
    run = runs.filter(pk=parse_id(run_id)).first()
    if run is None:
        raise NotFound()
    return run


def latest_published_rating(team):
    """The team's result in the newest published run (7.2.3), or None."""
    return (
        TeamRating.objects.filter(team=team, run__published=True)
        .select_related("run")
        .order_by("-run__year", "-run__created_at", "-run_id")
        .first()
    )
