"""The association's honours rules, for association admins (5.2.10): the violation rule that
proposes exit (the page behind `GET/PUT /api/v1/associations/{id}/violation-rule`) and
retiring an honour title from the honours desk (`POST /api/v1/honour-titles/{id}/retire`) —
each through the same service as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError, Forbidden
from hongfeng.core.forms import add_domain_error
from hongfeng.honours import forms, selectors, services
from hongfeng.orgs.models import Unit
from hongfeng.orgs.selectors import associations_for, pick_association


def _associations(user) -> list[Unit]:
    """The associations whose rule the user may set (403 for anyone who sets none)."""
    if not access.has_capability(user, "honours.rules"):
        raise Forbidden("只有协会管理员可以设置警告退出规则。")
    return associations_for(user, "honours.rules")


@login_required
def violation_rule(request):
    """The rule in force for one of the admin's associations (its own, an ancestor's, or the
    default: the second warning within 12 months), its change history, and the form."""
    user = request.user
    associations = _associations(user)
    raw = request.POST.get("association") or request.GET.get("association")
    association = pick_association(associations, raw)
    in_force = selectors.violation_rule_in_force(association)
    warnings, months, label = services.violation_rule_terms(in_force)
    form = forms.ViolationRuleForm(
        request.POST or None, initial={"warnings": warnings, "window_months": months}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_violation_rule(
                actor=user,
                association=association,
                warnings=form.cleaned_data["warnings"],
                window_months=form.cleaned_data["window_months"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)  # a 403 or 404 becomes the error page
        else:
            messages.success(request, f"已更新{association.name}的警告退出规则。")
            return redirect(f"{reverse('honours:violation_rule')}?association={association.pk}")
    return render(
        request,
        "honours/violation_rule.html",
        {
            "associations": associations,
            "association": association,
            "label": label,
            "warnings": warnings,
            "months": months,
            "in_force": in_force,
            "form": form,
            "history": selectors.violation_rule_history(association),
        },
    )


@login_required
@require_POST
def retire_title(request, title_id):
    """停用 a title: no new grants, by hand or by rule; grants and certificates stay. 404 for a
    title out of sight, 403 for one the user sees but whose association is not theirs."""
    title = selectors.get_title_for_user(request.user, title_id)
    services.retire_title(actor=request.user, title=title)
    messages.success(
        request, f"已停用荣誉称号「{title.name}」。已授予的荣誉和已开具的证书不受影响。"
    )
    return redirect("honours:desk")
