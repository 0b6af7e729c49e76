"""Pages: 我的荣誉与证书 for volunteers on a phone; the desk pages for admins and captains
(grant honours, issue certificates and statements, titles and rules; warnings and the exit
proposals queue); and the public verification page behind every certificate's QR code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate
from hongfeng.honours import forms, selectors, services
from hongfeng.honours.api import base_url, certificate_download
from hongfeng.honours.models import ProposalStatus
from hongfeng.members.selectors import members_for, own_member
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit

MEMBER_CHOICES = 500


def _pick(rows, raw):
    return next((r for r in rows if str(r.pk) == str(raw)), None)


def _fail(request, exc: DomainError, form=None):
    if form is not None:
        add_domain_error(form, exc)
    else:
        flash_domain_error(request, exc)


@login_required
def mine(request):
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    form = forms.StatementForm(request.POST if request.POST.get("action") == "statement" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "honour":
                grant = selectors.grants_for(request.user, member=member).filter(
                    pk=access.parse_id(request.POST.get("grant"))
                )
                grant = grant.first()
                if grant is None:
                    raise DomainError("没有这项荣誉。")
                services.issue_honour_certificate(actor=request.user, grant=grant)
                messages.success(request, f"已开具「{grant.title.name}」荣誉证书。")
                return redirect("honours:mine")
            if form.is_valid():
                services.issue_service_statement(
                    actor=request.user,
                    member=member,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                )
                messages.success(request, "已开具志愿服务证明，可下载 PDF。")
                return redirect("honours:mine")
        except DomainError as exc:
            _fail(request, exc, form if request.POST.get("action") == "statement" else None)
    return render(
        request,
        "honours/mine.html",
        {
            "member": member,
            "form": form,
            "grants": list(selectors.grants_for(request.user, member=member)[:50]),
            "certificates": paginate(
                request, selectors.certificates_for(request.user, member=member), 20
            ),
            "warnings": list(selectors.warnings_for(request.user, member=member)[:20]),
        },
    )


@login_required
def certificate_pdf(request, certificate_id):
    certificate = selectors.get_certificate_for_user(request.user, certificate_id)
    pdf = services.certificate_pdf(
        actor=request.user, certificate=certificate, base_url=base_url(request)
    )
    return certificate_download(certificate, pdf)


@login_required
def desk(request):
    user = request.user
    if not access.has_capability(user, "honours.grant"):
        raise PermissionDenied("只有协会管理员或总队长可以管理荣誉与证书。")
    members = list(
        members_for(user, status="serving", capability="honours.grant").exclude(user=user)[
            :MEMBER_CHOICES
        ]
    )
    titles = list(selectors.grantable_titles(user))
    associations = list(
        Unit.objects.filter(
            access.scope_q(user, "honours.rules"), kind__in=ASSOCIATION_KINDS
        ).order_by("path")[:100]
    )
    action = request.POST.get("action") if request.method == "POST" else None
    grant_form = forms.GrantForm(
        request.POST if action == "grant" else None, members=members, titles=titles
    )
    statement_form = forms.MemberStatementForm(
        request.POST if action == "statement" else None, members=members
    )
    title_form = forms.TitleForm(
        request.POST if action == "title" else None, associations=associations
    )
    try:
        if action == "grant" and grant_form.is_valid():
            data = grant_form.cleaned_data
            grant = services.grant_honour(
                actor=user,
                member=_pick(members, data["member"]),
                title=_pick(titles, data["title"]),
                reason=data["reason"],
            )
            messages.success(request, f"已授予{grant.member.name}「{grant.title.name}」。")
            return redirect("honours:desk")
        if action == "statement" and statement_form.is_valid():
            data = statement_form.cleaned_data
            services.issue_service_statement(
                actor=user,
                member=_pick(members, data["member"]),
                start=data["start"],
                end=data["end"],
            )
            messages.success(request, "已开具志愿服务证明。")
            return redirect("honours:desk")
        if action == "title" and title_form.is_valid():
            data = title_form.cleaned_data
            title = services.create_title(
                actor=user,
                association=_pick(associations, data["association"]),
                name=data["name"],
                threshold_kind=data["threshold_kind"],
                threshold_value=data["threshold_value"],
                description=data["description"],
            )
            messages.success(request, f"已设立荣誉称号「{title.name}」。")
            return redirect("honours:desk")
        if action == "apply":
            association = _pick(associations, request.POST.get("association"))
            if association is None:
                raise PermissionDenied("只有协会管理员可以按规则授予荣誉。")
            made = services.grant_honours_by_rule(association=association, actor=user)
            messages.success(request, f"已按规则新授予 {len(made)} 人次荣誉。")
            return redirect("honours:desk")
        if action in ("honour", "revoke"):
            if action == "honour":
                grant = selectors.get_grant_for_user(user, request.POST.get("grant"))
                services.issue_honour_certificate(actor=user, grant=grant)
                messages.success(request, "已开具荣誉证书。")
            else:
                certificate = selectors.get_certificate_for_user(
                    user, request.POST.get("certificate")
                )
                services.revoke_certificate(
                    actor=user, certificate=certificate, reason=request.POST.get("reason", "")
                )
                messages.success(request, f"已撤销证书 {certificate.serial}。")
            return redirect("honours:desk")
    except DomainError as exc:
        form = {"grant": grant_form, "statement": statement_form, "title": title_form}.get(action)
        _fail(request, exc, form)
    return render(
        request,
        "honours/desk.html",
        {
            "grant_form": grant_form,
            "statement_form": statement_form,
            "title_form": title_form,
            "associations": associations,
            "rule_association_ids": {a.pk for a in associations},
            "titles": list(selectors.titles_for(user)[:100]),
            "grants": list(selectors.grants_for(user).exclude(member__user=user)[:30]),
            "certificates": paginate(
                request, selectors.certificates_for(user).exclude(member__user=user), 20
            ),
        },
    )


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
                member=_pick(members, data["member"]),
                reason=data["reason"],
                evidence=data["evidence"],
                evidence_ref=data["evidence_ref"],
                penalty_points=data["penalty_points"],
            )
        except DomainError as exc:
            _fail(request, exc, form)
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
        _fail(request, exc)
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
