"""Recruitment pages (5.2.2): the public application form and status lookup, the review
queue, and each team's charter."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import add_domain_error, paginate
from hongfeng.core.middleware import client_ip
from hongfeng.members import recruitment_forms as forms
from hongfeng.members import services
from hongfeng.members.models import ApplicationStatus, Charter
from hongfeng.orgs.models import Unit, UnitKind


def choose_team(request):
    """Step one of applying: find the team to join (public)."""
    query = request.GET.get("q", "").strip()[:30]
    return render(
        request,
        "members/apply_choose.html",
        {"teams": services.recruiting_teams(query)[:200], "query": query},
    )


@never_cache
def apply(request, team_id):
    """Step two: the charter, then the form (public)."""
    team = services.recruiting_teams().filter(pk=access.parse_id(team_id)).first()
    if team is None:
        raise NotFound("该队伍不存在或暂不接受申请。")
    charter = services.current_charter(team)
    units = (
        Unit.objects.active()
        .subtree_of(team, include_self=False)
        .filter(kind__in=[UnitKind.SQUAD, UnitKind.GROUP], special_tag="")
        .select_related("parent")
        .order_by("path")
    )
    form = forms.ApplicationForm(
        request.POST or None, units=units, initial={"charter_version": charter.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        preferred = (
            units.filter(pk=data["preferred_unit"]).first() if data["preferred_unit"] else None
        )
        try:
            application = services.submit_application(
                team=team,
                preferred_unit=preferred,
                name=data["name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                password=data["password"],
                skills=list(data["skills"]),
                motivation=data["motivation"],
                charter_version=data["charter_version"],
                charter_accepted=data["charter_accepted"],
                privacy_accepted=data["privacy_accepted"],
                ip=client_ip(request) or "",
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return render(request, "members/apply_done.html", {"application": application})
    return render(request, "members/apply.html", {"team": team, "charter": charter, "form": form})


def privacy_notice(request):
    return render(
        request, "members/privacy_notice.html", {"version": services.PRIVACY_NOTICE_VERSION}
    )


@never_cache
def lookup(request):
    """The applicant checks the result with the application number and the mobile."""
    form = forms.LookupForm(request.POST or None)
    application = None
    if request.method == "POST" and form.is_valid():
        application = services.find_application(
            form.cleaned_data["code"], form.cleaned_data["mobile"]
        )
        if application is None:
            form.add_error(None, "没有找到该申请，请核对申请编号和手机号。")
    return render(request, "members/apply_status.html", {"form": form, "application": application})


@login_required
def queue(request):
    """The review queue: applications to the teams the reviewer keeps, oldest first."""
    if not access.has_capability(request.user, "members.manage"):
        raise PermissionDenied("您没有审核入队申请的权限。")
    status = request.GET.get("status", ApplicationStatus.APPLIED)
    rows = services.reviewable_applications(request.user).select_related("team", "preferred_unit")
    if status in ApplicationStatus.values:
        rows = rows.filter(status=status)
    order = ("submitted_at", "id") if status == ApplicationStatus.APPLIED else ("-decided_at",)
    return render(
        request,
        "members/applications.html",
        {
            "page": paginate(request, rows.order_by(*order)),
            "status": status,
            "statuses": ApplicationStatus.choices,
        },
    )


@login_required
def review(request, application_id):
    application = (
        services.reviewable_applications(request.user)
        .select_related("team", "preferred_unit", "charter")
        .filter(pk=access.parse_id(application_id))
        .first()
    )
    if application is None:
        raise NotFound()
    units = list(
        Unit.objects.visible_to(request.user, "members.manage")
        .active()
        .subtree_of(application.team)
        .filter(special_tag="")
        .select_related("parent")
        .order_by("path")
    )
    initial = {"unit": str((application.preferred_unit or application.team).pk)}
    approve_form = forms.ApproveForm(
        request.POST if "approve" in request.POST else None, units=units, initial=initial
    )
    reject_form = forms.RejectForm(request.POST if "reject" in request.POST else None)
    if request.method == "POST":
        try:
            if "approve" in request.POST and approve_form.is_valid():
                unit = access.get_unit_for_user(request.user, approve_form.cleaned_data["unit"])
                member = services.approve_application(
                    actor=request.user, application=application, unit=unit
                )
                messages.success(request, f"已通过，{member.name}成为见习队员。")
                return redirect("members:file", member_id=member.pk)
            if "reject" in request.POST and reject_form.is_valid():
                services.reject_application(
                    actor=request.user,
                    application=application,
                    reason=reject_form.cleaned_data["reason"],
                )
                messages.success(request, "已记录未通过及原因，申请人可凭申请编号查询。")
                return redirect("members:applications")
        except DomainError as exc:
            add_domain_error(approve_form if "approve" in request.POST else reject_form, exc)
    return render(
        request,
        "members/review.html",
        {
            "application": application,
            "approve_form": approve_form,
            "reject_form": reject_form,
        },
    )


@login_required
def charter(request, team_id):
    """A team's charter: the current version, its history, and (for keepers) a new version."""
    team = access.get_unit_for_user(request.user, team_id)
    if team.kind != UnitKind.TEAM:
        raise NotFound()
    current = services.current_charter(team)
    can_publish = access.can(request.user, "members.manage", team)
    initial = (
        {
            f: getattr(current, f)
            for f in ("joining_conditions", "rights_and_duties", "exit_rules", "code_of_conduct")
        }
        if current
        else {}
    )
    form = forms.CharterForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_publish:
            raise PermissionDenied("您无权修改该队伍的章程。")
        if form.is_valid():
            try:
                new = services.publish_charter(actor=request.user, team=team, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"已发布章程第 {new.version} 版。")
                return redirect("members:charter", team_id=team.pk)
    return render(
        request,
        "members/charter.html",
        {
            "team": team,
            "charter": current,
            "form": form,
            "can_publish": can_publish,
            "versions": Charter.objects.filter(team=team).select_related("published_by"),
        },
    )
