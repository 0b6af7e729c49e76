"""公示 pages (5.2.9): the captain's list of published monthly notices with the publish form,
and the public page and workbook anyone may open without logging in (masked names only)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities import forms, selectors, services, spreadsheets
from hongfeng.activities.models import AttendanceNotice
from hongfeng.core.downloads import file_response
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, paginate


def _last_month() -> str:
    previous = timezone.localdate().replace(day=1) - timedelta(days=1)
    return f"{previous:%Y-%m}"


@login_required
def attendance(request):
    if not access.has_capability(request.user, "activities.publish_notice"):
        raise PermissionDenied("只有总队长或协会管理员可以发布考勤公示。")
    teams = list(selectors.attendance_teams(request.user).order_by("path")[:500])
    form = forms.AttendanceForm(
        request.POST or None,
        teams=teams,
        initial={"month": _last_month(), "team": teams[0].pk if teams else None},
    )
    if request.method == "POST" and form.is_valid():
        team = next(t for t in teams if str(t.pk) == form.cleaned_data["team"])
        try:
            notice = services.publish_attendance_notice(
                actor=request.user,
                team=team,
                month=services.parse_month(form.cleaned_data["month"]),
            )
        except DomainError as exc:
            add_domain_error(form, _field(exc))
        else:
            messages.success(
                request,
                f"已发布{team.name} {notice.month:%Y-%m} 考勤公示（第 {notice.version} 版）。",
            )
            return redirect("activities:attendance")
    rows = AttendanceNotice.objects.filter(team__in=[t.pk for t in teams]).select_related(
        "team", "published_by"
    )
    return render(
        request,
        "activities/attendance.html",
        {"form": form, "page": paginate(request, rows, 20), "teams": teams},
    )


def _field(exc: DomainError) -> DomainError:
    if exc.field == "team_id":
        exc.field = "team"
    return exc


def public_attendance(request, public_id):
    """The public 公示 (no login)."""
    notice = services.public_notice(public_id)
    return render(request, "activities/public_attendance.html", {"notice": notice})


def public_attendance_xlsx(request, public_id):
    notice = services.public_notice(public_id)
    return file_response(
        spreadsheets.attendance_workbook(notice),
        filename=f"{notice.team.name}-{notice.month:%Y-%m}-考勤公示-v{notice.version}.xlsx",
        content_type=spreadsheets.XLSX,
        fallback=f"attendance-{notice.month:%Y-%m}-v{notice.version}.xlsx",
    )
