"""Roster pages (4.5 队伍一键入驻): upload, progress and report, confirm, downloads, export."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.core.downloads import file_response
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import flash_domain_error, raise_refusal
from hongfeng.core.uploads import accepts_upload, check_upload_size
from hongfeng.members import exporting, importing, selectors, spreadsheets
from hongfeng.members.roster import MAX_BYTES
from hongfeng.members.views import pick_unit
from hongfeng.orgs.models import UnitKind


def _download(content: bytes, filename: str, fallback: str) -> HttpResponse:
    return file_response(
        content, filename=filename, content_type=spreadsheets.XLSX, fallback=fallback
    )


def _team(request, raw_id):
    team = access.get_unit_for_user(request.user, raw_id)
    if team.kind != UnitKind.TEAM or not access.can(request.user, "members.manage", team):
        raise PermissionDenied("名册按总队导入；您须是该总队的管理人。")
    return team


@login_required
@accepts_upload(MAX_BYTES)
def upload(request):
    if not request.GET.get("team"):
        teams = selectors.manageable_units(request.user, teams_only=True)
        return pick_unit(request, teams, param="team", title="名册导入")
    team = _team(request, request.GET.get("team"))
    error = ""
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        try:
            if upload_file is None:
                raise DomainError("请选择要上传的名册文件。", code="file_required", field="file")
            check_upload_size(upload_file, max_bytes=MAX_BYTES, field="file", label="名册文件")
            roster_import = importing.start_import(
                actor=request.user,
                team=team,
                filename=upload_file.name,
                content=upload_file.read(),
                consent_confirmed=request.POST.get("consent") == "on",
            )
        except DomainError as exc:
            raise_refusal(exc)
            error = exc.message
        else:
            return redirect("members:roster_import", import_id=roster_import.pk)
    recent = (
        importing.visible_imports(request.user).filter(team=team).select_related("created_by")[:10]
    )
    return render(
        request, "members/roster_upload.html", {"team": team, "error": error, "recent": recent}
    )


def _get_import(request, import_id):
    roster_import = (
        importing.visible_imports(request.user)
        .select_related("team", "created_by")
        .filter(pk=access.parse_id(import_id))
        .first()
    )
    if roster_import is None:
        raise NotFound()
    return roster_import


@login_required
def import_detail(request, import_id):
    """Progress while it runs (htmx polls the status card), then the report and the choice."""
    roster_import = _get_import(request, import_id)
    context = {"item": roster_import, "report": roster_import.report[:300]}
    if request.headers.get("HX-Request") == "true":
        return render(request, "members/_roster_status.html", context)
    return render(request, "members/roster_import.html", context)


@login_required
@require_POST
def confirm(request, import_id):
    roster_import = _get_import(request, import_id)
    try:
        importing.confirm_import(
            actor=request.user,
            roster_import=roster_import,
            valid_only=request.POST.get("valid_only") == "1",
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
    return redirect("members:roster_import", import_id=roster_import.pk)


@login_required
def report(request, import_id):
    roster_import = _get_import(request, import_id)
    return _download(
        spreadsheets.import_report(roster_import),
        f"校验报告-{roster_import.team.name}-{roster_import.pk}.xlsx",
        f"roster-report-{roster_import.pk}.xlsx",
    )


@login_required
def template(request):
    team = _team(request, request.GET.get("team"))
    return _download(
        spreadsheets.roster_template(team),
        f"{team.name}-队员名册模板.xlsx",
        "roster-template.xlsx",
    )


@login_required
@require_POST
def export(request):
    unit = access.get_unit_for_user(request.user, request.POST.get("unit"))
    reveal = request.POST.get("reveal") == "1"
    try:
        content = exporting.export_roster(
            actor=request.user,
            unit=unit,
            reveal=reveal,
            reason=request.POST.get("reason", ""),
            include_left=request.POST.get("include_left") == "1",
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(f"/members/?unit={unit.pk}")
    stamp = timezone.localtime().strftime("%Y%m%d")
    return _download(content, f"{unit.name}-队员名册-{stamp}.xlsx", f"roster-{stamp}.xlsx")
