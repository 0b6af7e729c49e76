"""积分规则 for association admins (5.4.5): the rule in force for each of their associations,
its version history, and a new version — previewed with a worked example before it is
published through the same service as `POST /api/v1/points-rules`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError, Forbidden
from hongfeng.core.forms import raise_refusal
from hongfeng.orgs.models import Unit
from hongfeng.orgs.selectors import associations_for, pick_association
from hongfeng.points import rule_versions
from hongfeng.points.forms import RuleForm


def _associations(user) -> list[Unit]:
    """The associations whose rule the user may set (403 for anyone who sets none)."""
    if not access.has_capability(user, "points.rules"):
        raise Forbidden("只有协会管理员可以制定积分规则。")
    return associations_for(user, "points.rules")


def _preview(form: RuleForm):
    """(coefficients, digest) of the form's values, or None with the error put on the form."""
    data = form.cleaned_data
    try:
        coefficients = rule_versions.coefficients_from(
            data["per_hour"], form.factors("difficulty"), form.factors("quality")
        )
    except DomainError as exc:
        form.add_error(form.error_field(exc.field), exc.message)
        return None
    return coefficients, rule_versions.digest(coefficients, data["effective_from"], data["note"])


def _publish(request, form: RuleForm, association: Unit):
    """Publish the previewed values; the new version, or None with the error on the form."""
    data = form.cleaned_data
    try:
        return rule_versions.publish_rule(
            actor=request.user,
            association=association,
            per_hour=data["per_hour"],
            difficulty=form.factors("difficulty"),
            quality=form.factors("quality"),
            note=data["note"],
            effective_from=data["effective_from"],
        )
    except DomainError as exc:
        raise_refusal(exc)
        form.add_error(form.error_field(exc.field), exc.message)
        return None


@login_required
def rules_page(request):
    user = request.user
    associations = _associations(user)
    raw = request.POST.get("association") or request.GET.get("association")
    association = pick_association(associations, raw)
    coefficients, in_force, label = rule_versions.rule_for(association)
    action = request.POST.get("action") if request.method == "POST" else None
    form = RuleForm(request.POST if action else None, initial=RuleForm.initial_for(coefficients))
    preview = _preview(form) if action in ("preview", "publish") and form.is_valid() else None
    if preview is not None and action == "publish":
        if form.cleaned_data["digest"] != preview[1]:
            messages.warning(request, "数值已改动：请核对下面新的计算示例，再确认发布。")
        elif rule := _publish(request, form, association):
            messages.success(request, f"已发布{association.name}积分规则第 {rule.version} 版。")
            return redirect(f"{reverse('points:rules')}?association={association.pk}")
        else:
            preview = None
    if preview is not None:
        # The digest travels with the form so that 确认发布 publishes exactly what was shown.
        form.data = form.data.copy()
        form.data["digest"] = preview[1]
    versions = rule_versions.versions_of(association)
    return render(
        request,
        "points/rules.html",
        {
            "associations": associations,
            "association": association,
            "in_force": in_force,
            "label": label,
            "shown": rule_versions.describe(coefficients),
            "current_examples": rule_versions.examples(coefficients),
            "versions": versions,
            "form": form,
            "preview_examples": rule_versions.examples(preview[0]) if preview else None,
            "next_version": versions[0]["rule"].version + 1 if versions else 1,
            "inherited": in_force is not None and in_force.association_id != association.pk,
        },
    )
