"""Member pages: the list with search and filters, the member file (一人一档), registration,
editing, status changes, the audited reveal, and 我的档案 (the volunteer's own member file)."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.activities.selectors import service_record
from hongfeng.core.downloads import file_response
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate, raise_refusal
from hongfeng.core.member_file import render_sections as render_file_sections
from hongfeng.core.uploads import accepts_upload, check_upload_size
from hongfeng.members import forms, photos, selectors, services
from hongfeng.members.models import (
    Category,
    EquipmentIssue,
    MemberStatus,
    Skill,
)
from hongfeng.members.spreadsheets import scope_note
from hongfeng.orgs.models import UnitKind


def _require(user, capability: str):
    if not access.has_capability(user, capability):
        raise PermissionDenied("您没有访问此页面的权限。")


@login_required
def member_list(request):
    _require(request.user, "members.view")
    params = request.GET
    unit = access.get_unit_for_user(request.user, params["unit"]) if params.get("unit") else None
    rows = selectors.members_for(
        request.user,
        q=params.get("q", "")[:50],
        unit=unit,
        status=params.get("status") or None,
        category=params.get("category") if params.get("category") in Category.values else None,
        skill=params.get("skill") or None,
    )
    page = paginate(request, rows)
    today = timezone.localdate()
    for member in page:
        member.position = selectors.position_label(member)
        member.age = member.age_on(today)
    if unit is not None:
        can_register = access.can(request.user, "members.manage", unit)
        can_import = can_register and unit.kind == UnitKind.TEAM
    else:  # the sidebar's list: the unit is picked on the next page (pick_unit)
        can_register = access.has_capability(request.user, "members.manage")
        can_import = (
            can_register and selectors.manageable_units(request.user, teams_only=True).exists()
        )
    return render(
        request,
        "members/list.html",
        {
            "page": page,
            "unit": unit,
            "statuses": MemberStatus.choices,
            "categories": Category.choices,
            "skills": Skill.objects.all(),
            "can_register": can_register,
            "can_import": can_import,
            "can_review": access.has_capability(request.user, "members.manage"),
            "can_reveal": unit is not None and access.can(request.user, "members.reveal", unit),
            "export_scope": scope_note(include_left=False, left_out=0),
            "pending": services.reviewable_applications(request.user)
            .filter(status="applied")
            .count(),
        },
    )


def _file_context(request, member) -> dict:
    user = request.user
    own = member.user_id == user.pk
    keeper = own or access.can(user, "members.manage", member.unit)
    today = timezone.localdate()
    return {
        "member": member,
        "own": own,
        "keeper": keeper,
        "can_manage": access.can(user, "members.manage", member.unit),
        "can_reveal": own or access.can(user, "members.reveal", member.unit),
        "position": selectors.position_label(member),
        "age": member.age_on(today),
        "today": today,
        "history": member.status_changes.select_related("changed_by")[:50],
        "certificates": member.certificates.all(),
        "insurances": member.insurances.all(),
        "equipment": member.equipment.all(),
        "skills": member.skills.all(),
        "mentees": member.mentees.all() if keeper else [],
        "reveal_form": forms.RevealForm(),
        "service": service_record(member),
        # points, honours, warnings…: registered by the domains above members (core.member_file)
        "file_sections": render_file_sections(member=member, viewer=user),
        **(
            _keeper_choices(user, member) if access.can(user, "members.manage", member.unit) else {}
        ),
    }


@login_required
@require_POST
def pre_job_training(request, member_id):
    """5.3.1: record (or clear) the completion of pre-job training on the file."""
    member = selectors.get_member_for_user(request.user, member_id)
    raw = request.POST.get("completed_on", "").strip()
    try:
        completed_on = date.fromisoformat(raw) if raw else None
    except ValueError:
        messages.error(request, "日期格式不正确，请按 年-月-日 填写。")
        return redirect("members:file", member.pk)
    try:
        services.record_pre_job_training(
            actor=request.user, member=member, completed_on=completed_on
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request, "岗前培训记录已更新。" if completed_on else "已清除岗前培训记录。"
        )
    return redirect("members:file", member.pk)


def _keeper_choices(user, member) -> dict:
    """What the file page offers a keeper: units to move the member to, veterans to pair."""

    from hongfeng.members.models import Member
    from hongfeng.orgs.models import Unit

    team = member.unit if member.unit.kind == "team" else member.unit.team
    units = (
        Unit.objects.visible_to(user, "members.manage")
        .active()
        .subtree_of(team)
        .filter(special_tag="")
        .exclude(pk=member.unit_id)
        .order_by("path")
    )
    veterans = (
        Member.objects.visible_to(user, "members.manage")
        .partner_candidates(timezone.localdate())
        .filter(unit__path__startswith=team.path)
        .exclude(pk=member.pk)
        .order_by("name")[:200]
    )
    return {"move_units": units, "veterans": veterans}


@login_required
def member_file(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    return render(request, "members/file.html", _file_context(request, member))


@login_required
def my_profile(request):
    """My own file, unmasked, on a phone; contact data editable (each change audited)."""
    member = selectors.own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    form = forms.ContactForm(
        request.POST or None,
        initial={
            "address": member.address,
            "emergency_contact": member.emergency_contact,
            "emergency_mobile": member.emergency_mobile,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_own_contact(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "联系方式已更新。")
            return redirect("members:me")
    return render(request, "members/me.html", {**_file_context(request, member), "form": form})


def pick_unit(request, units, *, param: str, title: str):
    """Without a unit in the query (from the sidebar's 队员档案): the one unit the user keeps,
    or a choice among the units in the user's scope (issue 15, 5.4)."""
    units = list(units.select_related("parent", "team")[:500])
    if not units:
        raise PermissionDenied("您的管理范围内没有可操作的单位。")
    if len(units) == 1:
        return redirect(f"{request.path}?{param}={units[0].pk}")
    return render(
        request, "members/pick_unit.html", {"units": units, "param": param, "title": title}
    )


@login_required
def register(request):
    """实名登记 by a captain or association staff, into the unit in `?unit=` (or a unit the
    user picks first)."""
    if not request.GET.get("unit"):
        units = selectors.manageable_units(request.user)
        return pick_unit(request, units, param="unit", title="实名登记队员")
    unit = access.get_unit_for_user(request.user, request.GET.get("unit"))
    if not access.can(request.user, "members.manage", unit):
        raise PermissionDenied("您无权在该单位登记队员。")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.register_member(
                actor=request.user,
                unit=unit,
                name=data["name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                joined_on=data["joined_on"],
                data=form.member_data(),
                consent_version=forms.PRIVACY_NOTICE_VERSION,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已为{member.name}建立档案（见习队员）。")
            return redirect("members:file", member_id=member.pk)
    return render(request, "members/register.html", {"form": form, "unit": unit})


@login_required
def edit(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    if not access.can(request.user, "members.manage", member.unit):
        raise PermissionDenied("您无权修改该队员档案。")
    # The health declaration and the emergency number are shown (and editable) only to the
    # member and to those who may reveal them; everyone else edits the rest.
    private = member.user_id == request.user.pk or access.can(
        request.user, "members.reveal", member.unit
    )
    initial = {**services.current_data(member), "version": member.version}
    form = forms.EditForm(request.POST or None, initial=initial, private=private)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.fields if name != "version"}
        changes["skills"] = list(changes["skills"])
        try:
            services.update_member(
                actor=request.user,
                member=member,
                changes=changes,
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "档案已保存。")
            return redirect("members:file", member_id=member.pk)
    response = render(request, "members/edit.html", {"form": form, "member": member})
    add_never_cache_headers(response)  # the form holds the decrypted health declaration
    return response


@login_required
def change_status(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    if not access.can(request.user, "members.manage", member.unit):
        raise PermissionDenied("您无权变更该队员的状态。")
    form = forms.StatusForm(request.POST or None, current=member.status)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_status(
                actor=request.user,
                member=member,
                to=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "状态已变更并记入历史。")
            return redirect("members:file", member_id=member.pk)
    return render(request, "members/status.html", {"form": form, "member": member})


@login_required
@require_POST
def reveal(request, member_id):
    """The audited "查看明文": answers an htmx fragment (or a page without JavaScript)."""
    member = selectors.get_member_for_user(request.user, member_id)
    form = forms.RevealForm(request.POST)
    value, error = None, None
    if form.is_valid():
        try:
            value = services.reveal(
                actor=request.user,
                member=member,
                field_name=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            raise_refusal(exc)
            error = exc.message
    else:
        error = "请写明查看原因。"
    htmx = request.headers.get("HX-Request") == "true"
    template = "members/_revealed.html" if htmx else "members/revealed.html"
    response = render(
        request,
        template,
        {"member": member, "value": value, "error": error, "field": form.data.get("field", "")},
    )
    add_never_cache_headers(response)
    return response


_RECORD_FORMS = {
    "certificate": (forms.CertificateForm, services.add_certificate, "证书"),
    "insurance": (forms.InsuranceForm, services.add_insurance, "保险"),
    "equipment": (forms.EquipmentForm, services.issue_equipment, "装备发放"),
}


@login_required
def add_record(request, member_id, kind):
    """Add a certificate, an insurance policy or an issued piece of equipment to a file."""
    if kind not in _RECORD_FORMS:
        raise PermissionDenied("未知的记录类型。")
    member = selectors.get_member_for_user(request.user, member_id)
    if not access.can(request.user, "members.manage", member.unit):
        raise PermissionDenied("您无权修改该队员档案。")
    form_class, service, label = _RECORD_FORMS[kind]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=request.user, member=member, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已登记{label}。")
            return redirect("members:file", member_id=member.pk)
    return render(
        request, "members/add_record.html", {"form": form, "member": member, "label": label}
    )


@login_required
@require_POST
def return_equipment(request, member_id, issue_id):
    member = selectors.get_member_for_user(request.user, member_id)
    issue = EquipmentIssue.objects.filter(member=member, pk=access.parse_id(issue_id)).first()
    if issue is None:
        raise NotFound()
    try:
        services.return_equipment(actor=request.user, issue=issue, returned_on=timezone.localdate())
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, "已登记归还。")
    return redirect("members:file", member_id=member.pk)


@login_required
def file_pdf(request, member_id):
    """The member file as a PDF (masked unless it is the reader's own)."""
    from hongfeng.members.pdf import member_file_pdf

    member = selectors.get_member_for_user(request.user, member_id)
    return file_response(
        member_file_pdf(actor=request.user, member=member),
        filename=f"{member.name}-档案.pdf",
        content_type="application/pdf",
        fallback=f"member-file-{member.pk}.pdf",
    )


@login_required
def photo(request, member_id):
    """The member's photo, only for those who may see the file."""
    member = selectors.get_member_for_user(request.user, member_id)
    if not member.photo:
        raise NotFound()
    response = HttpResponse(photos.read(member.photo), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
@accepts_upload(photos.MAX_BYTES)
def upload_photo(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    upload = request.FILES.get("photo")
    try:
        check_upload_size(upload, max_bytes=photos.MAX_BYTES, field="photo", label="照片")
        services.set_photo(
            actor=request.user, member=member, content=upload.read() if upload else b""
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, "照片已更新（已去除拍摄位置等元数据）。")
    if request.POST.get("back") == "me":
        return redirect("members:me")
    return redirect("members:file", member_id=member.pk)


@login_required
@require_POST
def move(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    try:
        unit = access.get_unit_for_user(request.user, request.POST.get("unit"))
        services.move_member(actor=request.user, member=member, unit=unit)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, f"已调整到{unit.name}。")
    return redirect("members:file", member_id=member.pk)


@login_required
@require_POST
def partner(request, member_id):
    member = selectors.get_member_for_user(request.user, member_id)
    raw = request.POST.get("partner")
    try:
        mate = selectors.get_member_for_user(request.user, raw) if raw else None
        services.set_partner(actor=request.user, member=member, partner=mate)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, "已更新 1+1 结对。")
    return redirect("members:file", member_id=member.pk)


@login_required
@require_POST
def remove_certificate(request, member_id, certificate_id):
    member = selectors.get_member_for_user(request.user, member_id)
    certificate = member.certificates.filter(pk=access.parse_id(certificate_id)).first()
    if certificate is None:
        raise NotFound()
    services.remove_certificate(actor=request.user, certificate=certificate)
    messages.success(request, "证书记录已删除。")
    return redirect("members:file", member_id=member.pk)
