"""The honours desk for association admins and captains (5.2.10): one page (GET) and one view
per action posted from it — grant a title, issue a service statement, set up a title, grant by
the rules now, issue an honour certificate, revoke a certificate. A refused action shows the
desk again with the error beside its form (or as a message above), as before; a 403 or 404
becomes the error page."""

from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate
from hongfeng.honours import forms, selectors, services
from hongfeng.honours.forms import MEMBER_CHOICES, chosen
from hongfeng.members.selectors import members_for
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit


class Desk:
    """What the desk's forms choose from, for one user (each list read once per request). Only
    holders of honours.grant get one."""

    def __init__(self, user):
        if not access.has_capability(user, "honours.grant"):
            raise PermissionDenied("只有协会管理员或总队长可以管理荣誉与证书。")
        self.user = user

    @cached_property
    def members(self) -> list:
        rows = members_for(self.user, status="serving", capability="honours.grant")
        return list(rows.exclude(user=self.user)[:MEMBER_CHOICES])

    @cached_property
    def titles(self) -> list:
        return list(selectors.grantable_titles(self.user))

    @cached_property
    def associations(self) -> list:
        """The associations whose titles and rules the user sets (honours.rules)."""
        return list(
            Unit.objects.filter(
                access.scope_q(self.user, "honours.rules"), kind__in=ASSOCIATION_KINDS
            ).order_by("path")[:100]
        )

    def grant_form(self, data=None):
        return forms.GrantForm(data, members=self.members, titles=self.titles)

    def statement_form(self, data=None):
        return forms.MemberStatementForm(data, members=self.members)

    def title_form(self, data=None):
        return forms.TitleForm(data, associations=self.associations)


def _show(request, desk: Desk, **bound):
    """The desk page; `bound` holds the form just posted (with its errors), if any."""
    user = desk.user
    return render(
        request,
        "honours/desk.html",
        {
            "grant_form": bound.get("grant_form") or desk.grant_form(),
            "statement_form": bound.get("statement_form") or desk.statement_form(),
            "title_form": bound.get("title_form") or desk.title_form(),
            "associations": desk.associations,
            "rule_association_ids": {a.pk for a in desk.associations},
            "titles": list(selectors.titles_for(user)[:100]),
            "grants": list(selectors.grants_for(user).exclude(member__user=user)[:30]),
            "certificates": paginate(
                request, selectors.certificates_for(user).exclude(member__user=user), 20
            ),
        },
    )


def _done(request, message: str):
    messages.success(request, message)
    return redirect("honours:desk")


@login_required
@require_safe
def desk(request):
    return _show(request, Desk(request.user))


@login_required
@require_POST
def grant_honour(request):
    desk = Desk(request.user)
    form = desk.grant_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grant = services.grant_honour(
                actor=request.user,
                member=chosen(desk.members, data["member"]),
                title=chosen(desk.titles, data["title"]),
                reason=data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _done(request, f"已授予{grant.member.name}「{grant.title.name}」。")
    return _show(request, desk, grant_form=form)


@login_required
@require_POST
def issue_statement(request):
    desk = Desk(request.user)
    form = desk.statement_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.issue_service_statement(
                actor=request.user,
                member=chosen(desk.members, data["member"]),
                start=data["start"],
                end=data["end"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _done(request, "已开具志愿服务证明。")
    return _show(request, desk, statement_form=form)


@login_required
@require_POST
def create_title(request):
    desk = Desk(request.user)
    form = desk.title_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            title = services.create_title(
                actor=request.user,
                association=chosen(desk.associations, data["association"]),
                name=data["name"],
                threshold_kind=data["threshold_kind"],
                threshold_value=data["threshold_value"],
                description=data["description"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _done(request, f"已设立荣誉称号「{title.name}」。")
    return _show(request, desk, title_form=form)


@login_required
@require_POST
def grant_by_rule(request):
    """Run the association's threshold titles now (the daily command does the same)."""
    desk = Desk(request.user)
    association = chosen(desk.associations, request.POST.get("association"))
    if association is None:
        raise PermissionDenied("只有协会管理员可以按规则授予荣誉。")
    try:
        made = services.grant_honours_by_rule(association=association, actor=request.user)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return _show(request, desk)
    return _done(request, f"已按规则新授予 {len(made)} 人次荣誉。")


@login_required
@require_POST
def issue_honour_certificate(request, grant_id):
    desk = Desk(request.user)
    grant = selectors.get_grant_for_user(request.user, grant_id)
    try:
        services.issue_honour_certificate(actor=request.user, grant=grant)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return _show(request, desk)
    return _done(request, "已开具荣誉证书。")


@login_required
@require_POST
def revoke_certificate(request, certificate_id):
    desk = Desk(request.user)
    certificate = selectors.get_certificate_for_user(request.user, certificate_id)
    try:
        services.revoke_certificate(
            actor=request.user, certificate=certificate, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
        return _show(request, desk)
    return _done(request, f"已撤销证书 {certificate.serial}。")
