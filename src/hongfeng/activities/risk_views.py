"""The association admin's page for default safety risk assessments (5.4.7): one text per kind
of activity, written once and pre-filled into every publish form of the association's teams.
Thin: the service checks the reach, the text and the version, and writes the audit event."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.activities import services
from hongfeng.activities.models import ActivityKind
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import TablerFormMixin, add_domain_error
from hongfeng.orgs.selectors import associations_for


class RiskDefaultForm(TablerFormMixin, forms.Form):
    text = forms.CharField(
        label="安全风险评估",
        max_length=services.RISK_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


@login_required
def risk_defaults(request):
    """Every kind's default as it applies to one association, each editable on its own."""
    choices = associations_for(request.user, "activities.manage")
    if not choices:
        raise PermissionDenied("只有协会管理员可以维护安全风险评估模板。")
    chosen = request.POST.get("association") or request.GET.get("association")
    association = (
        access.get_unit_for_user(request.user, chosen, "activities.manage")
        if chosen
        else choices[0]
    )
    bound = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        form = RiskDefaultForm(request.POST, prefix=kind)
        if kind in ActivityKind.values and form.is_valid():
            try:
                services.save_risk_default(
                    actor=request.user,
                    association=association,
                    kind=kind,
                    text=form.cleaned_data["text"],
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"已保存「{ActivityKind(kind).label}」的风险评估模板。")
                url = reverse("activities:risk_defaults")
                return redirect(f"{url}?association={association.pk}#kind-{kind}")
        bound = (kind, form)
    rows = []
    for default in services.risk_defaults_of(association):
        version = default.row.version if default.row else 0
        form = RiskDefaultForm(
            prefix=default.kind, initial={"text": default.text, "version": version}
        )
        if bound is not None and bound[0] == default.kind:
            form = bound[1]
        rows.append((default, form))
    return render(
        request,
        "activities/risk_defaults.html",
        {"association": association, "choices": choices, "rows": rows},
        status=400 if bound is not None else 200,
    )
