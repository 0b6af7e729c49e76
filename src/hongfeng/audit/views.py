"""The audit browser for 审计员 (read-only), and the verification of the audit chain."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from hongfeng.accounts import access
from hongfeng.audit import selectors, verification
from hongfeng.audit.actions import ACTIONS
from hongfeng.core.forms import paginate


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
def events(request):
    if not access.has_capability(request.user, "audit.view"):
        raise PermissionDenied("只有审计员可以查看审计记录。")
    params = request.GET
    action = params.get("action") if params.get("action") in ACTIONS else None
    unit = None
    if params.get("unit"):
        unit = access.get_unit_for_user(request.user, params["unit"], "audit.view")
    rows = selectors.events_for(
        request.user,
        action=action,
        actor=params.get("actor", "").strip()[:50] or None,
        unit_id=unit.pk if unit else None,
        since=_date(params.get("since")),
        until=_date(params.get("until")),
        request_id=params.get("request", "").strip()[:64] or None,
    )
    return render(
        request,
        "audit/events.html",
        {
            "page": paginate(request, rows),
            "actions": sorted(ACTIONS.items()),
            "unit": unit,
            "bad_dates": any(
                params.get(k) and _date(params.get(k)) is None for k in ("since", "until")
            ),
        },
    )


@login_required
def event_detail(request, event_id):
    if not access.has_capability(request.user, "audit.view"):
        raise PermissionDenied("只有审计员可以查看审计记录。")
    event = selectors.get_event_for_user(request.user, event_id)
    related = selectors.events_for(request.user, request_id=event.request_id).exclude(pk=event.pk)
    return render(request, "audit/event_detail.html", {"event": event, "related": related[:20]})


@login_required
def verify(request):
    """审计链完整性校验: platform-wide auditors start a verification of the whole trail (a
    background task, see audit.verification) and follow its progress; other auditors see when
    the trail was last verified and whether it held."""
    if not access.has_capability(request.user, "audit.view"):
        raise PermissionDenied("只有审计员可以查看审计记录。")
    platform = access.has_global(request.user, "audit.view")
    if request.method == "POST":
        current = verification.request_verification(actor=request.user)  # 403 unless platform
        return redirect("audit:verification", current.pk)
    recent = list(verification.recent_verifications())
    return render(
        request,
        "audit/verify.html",
        {"platform": platform, "current": recent[0] if recent else None, "recent": recent},
    )


@login_required
def verification_status(request, verification_id):
    """One verification, for platform-wide auditors: the whole page, or (htmx, polled while it
    runs) just its status card."""
    verification.require_platform_auditor(request.user)
    current = verification.get_verification(verification_id)
    partial = request.headers.get("HX-Request")
    template = "audit/_verify_status.html" if partial else "audit/verify.html"
    recent = list(verification.recent_verifications())
    return render(request, template, {"platform": True, "current": current, "recent": recent})
