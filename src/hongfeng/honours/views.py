"""Pages: 我的荣誉与证书 for volunteers on a phone (with its two actions: a service statement
and an honour certificate); warnings and the exit proposals queue for admins and captains; and
the public verification page behind every certificate's QR code. The honours desk is in
desk_views.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate
from hongfeng.honours import forms, selectors, services
from hongfeng.honours.api import base_url, certificate_download
from hongfeng.honours.forms import MEMBER_CHOICES, chosen
from hongfeng.honours.models import ProposalStatus
from hongfeng.members.selectors import members_for, own_member


def _show_mine(request, member, form=None):
    """我的荣誉与证书; `form` is the statement form just posted (with its errors), if any."""
    return render(
        request,
        "honours/mine.html",
        {
            "member": member,
            "form": form or forms.StatementForm(),
            "grants": list(selectors.grants_for(request.user, member=member)[:50]),
            "certificates": paginate(
                request, selectors.certificates_for(request.user, member=member), 20
            ),
            "warnings": list(selectors.warnings_for(request.user, member=member)[:20]),
        },
    )


@login_required
@require_safe
def mine(request):
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    return _show_mine(request, member)


@login_required
@require_POST
def issue_my_statement(request):
    """A service statement for the volunteer's own hours in a period."""
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    form = forms.StatementForm(request.POST)
    if form.is_valid():
        try:
            services.issue_service_statement(
                actor=request.user,
                member=member,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "已开具志愿服务证明，可下载 PDF。")
            return redirect("honours:mine")
    return _show_mine(request, member, form)


@login_required
@require_POST
def issue_my_honour_certificate(request, grant_id):
    """A certificate for one of the volunteer's own honours."""
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    grants = selectors.grants_for(request.user, member=member)
    grant = grants.filter(pk=access.parse_id(grant_id)).first()
    try:
        if grant is None:
            raise DomainError("没有这项荣誉。")
        services.issue_honour_certificate(actor=request.user, grant=grant)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return _show_mine(request, member)
    messages.success(request, f"已开具「{grant.title.name}」荣誉证书。")
    return redirect("honours:mine")


@login_required
def certificate_pdf(request, certificate_id):
    certificate = selectors.get_certificate_for_user(request.user, certificate_id)
    pdf = services.certificate_pdf(
        actor=request.user, certificate=certificate, base_url=base_url(request)
    )
    return certificate_download(certificate, pdf)


@login_required
def violations(request):
    user = request.user
    can_warn = access.has_capability(user, "violations.warn")
    if not (can_warn or access.has_capability(user, "violations.decide")):
        raise PermissionDenied("只有协会管理员或总队长可以处理警告。")
    members = list(
        members_for(user, status="serving", capability="violations.warn").exclude(user=user)[
            :MEMBER_CHOICES
        ]
    )
    form = forms.WarningForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            warning = services.issue_warning(
                actor=user,
                member=chosen(members, data["member"]),
                reason=data["reason"],
                evidence=data["evidence"],
                evidence_ref=data["evidence_ref"],
                penalty_points=data["penalty_points"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已警告{warning.member.name}。")
            return redirect("honours:violations")
    status = request.GET.get("status") or ProposalStatus.PENDING
    return render(
        request,
        "honours/violations.html",
        {
            "form": form,
            "can_warn": can_warn,
            "status": status,
            "statuses": ProposalStatus.choices,
            "proposals": paginate(
                request, selectors.proposals_for(user, status=status).exclude(member__user=user), 20
            ),
            "decision_form": forms.DecisionForm(),
            "can_decide": access.has_capability(user, "violations.decide"),
            "can_set_rule": access.has_capability(user, "honours.rules"),
            "warnings": list(selectors.warnings_for(user).exclude(member__user=user)[:30]),
        },
    )


@login_required
@require_POST
def decide(request, proposal_id):
    proposal = selectors.get_proposal_for_user(request.user, proposal_id)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择决定并填写理由（150 字以内）。")
        return redirect("honours:violations")
    confirm = form.cleaned_data["decision"] == "confirm"
    try:
        services.decide_exit(
            actor=request.user,
            proposal=proposal,
            confirm=confirm,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request,
            f"已确认{proposal.member.name}退出。"
            if confirm
            else f"已决定{proposal.member.name}不予退出。",
        )
    return redirect("honours:violations")


def verify(request, serial):
    """The public page behind the QR code (no login): genuine, or a clear error."""
    certificate = services.verify_certificate(serial, request.GET.get("h", ""))
    response = render(
        request,
        "honours/verify.html",
        {"certificate": certificate, "s": certificate.snapshot if certificate else None},
        status=200 if certificate else 404,
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
