"""公示 (5.2.9): each team's monthly attendance — hours and activity counts per member from the
settled hours ledger — published by the captain as a public page (names masked) and an .xlsx."""

from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities.models import AttendanceNotice, HoursEntry
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.masking import mask_name
from hongfeng.members.models import SERVING, Member
from hongfeng.orgs.models import Unit, UnitKind

__all__ = [
    "attendance_rows",
    "month_bounds",
    "parse_month",
    "public_notice",
    "publish_attendance_notice",
]


def parse_month(raw: str) -> date:
    """ "2026-10" → 2026-10-01; anything else is a clear error."""
    try:
        year, month = (int(part) for part in (raw or "").strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise DomainError(
            "月份格式应为“年-月”，例如 2026-10。", code="invalid_month", field="month"
        ) from None


def month_bounds(month: date) -> tuple[datetime, datetime]:
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return datetime.combine(month, time.min, tz), datetime.combine(following, time.min, tz)


def attendance_rows(team: Unit, month: date) -> list[dict]:
    """One row per member of the team (serving, or with hours that month): masked name, unit,
    hours and the number of activities, most hours first. Hours count by the activity's start
    month, from evaluated activities only (settled hours)."""
    start, end = month_bounds(month)
    in_month = Q(hours__activity__starts_at__gte=start, hours__activity__starts_at__lt=end)
    members = (
        Member.objects.filter(unit__path__startswith=team.path)
        .annotate(
            total=Sum("hours__hours", filter=in_month),
            activities=Count("hours__activity", filter=in_month, distinct=True),
        )
        .filter(Q(status__in=SERVING) | Q(total__isnull=False))
        .select_related("unit")
        .order_by("-total", "name_pinyin", "pk")
    )
    rows = []
    for m in members:
        total = m.total or Decimal("0")
        rows.append(
            {
                "name": mask_name(m.name),
                "unit": m.unit.name,
                "hours": str(total.quantize(Decimal("0.01"))),
                "activities": m.activities if total > 0 else 0,
            }
        )
    rows.sort(key=lambda r: -Decimal(r["hours"]))
    return rows


@transaction.atomic
def publish_attendance_notice(*, actor, team: Unit, month: date) -> AttendanceNotice:
    """Publish (or republish, as a new version) a finished month's attendance for a team."""
    access.require(
        actor, "activities.publish_notice", team, "只有总队长或协会管理员可以发布考勤公示。"
    )
    if team.kind != UnitKind.TEAM:
        raise DomainError("考勤公示按总队发布。", code="not_a_team", field="team_id")
    if month.day != 1:
        month = month.replace(day=1)
    _start, end = month_bounds(month)
    if end > timezone.now():
        raise DomainError("该月尚未结束，月底后再发布公示。", code="month_not_over", field="month")
    rows = attendance_rows(team, month)
    Unit.objects.select_for_update().filter(pk=team.pk).first()  # one publisher at a time
    last = (
        AttendanceNotice.objects.filter(team=team, month=month).aggregate(v=Max("version"))["v"]
        or 0
    )
    activity_ids = (
        HoursEntry.objects.filter(
            member__unit__path__startswith=team.path,
            activity__starts_at__gte=_start,
            activity__starts_at__lt=end,
        )
        .values("activity_id")
        .distinct()
    )
    notice = AttendanceNotice.objects.create(
        team=team,
        month=month,
        version=last + 1,
        rows=rows,
        total_hours=sum((Decimal(r["hours"]) for r in rows), Decimal(0)),
        activity_count=activity_ids.count(),
        published_by=actor,
        published_at=timezone.now(),
    )
    record_event(
        action="activity.attendance_published",
        actor=actor,
        target=team,
        unit=team,
        summary={"month": month.isoformat(), "version": notice.version, "rows": len(rows)},
    )
    return notice


def public_notice(public_id) -> AttendanceNotice:
    """The public page's notice (anyone may read it; it holds masked names only)."""
    notice = AttendanceNotice.objects.select_related("team").filter(public_id=public_id).first()
    if notice is None:
        raise NotFound()
    return notice
