"""Activity pages for volunteers, on a phone (5.2.3, 5.2.9): the list (open to me, near me,
mine), the detail with sign-up and the geofenced check-in. Thin: each view reads through the
selectors and calls one service; the check-in itself is posted by checkin.js to the JSON API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.activities import selectors, services
from hongfeng.activities.models import Participation, ParticipationStatus, own_member
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import paginate
from hongfeng.orgs.selectors import associations_in_reach

TABS = (("open", "可报名"), ("near", "附近"), ("mine", "我的活动"))
MANAGE_TAB = ("manage", "我管理的")
PER_PAGE = 20


def _coordinate(raw: str | None, limit: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


@login_required
def activity_list(request):
    user = request.user
    can_manage = access.has_capability(user, "activities.manage")
    if own_member(user) is None and not access.has_capability(user, "activities.view"):
        raise PermissionDenied("您还没有队员档案，也没有活动管理权限。")
    tabs = [*TABS, MANAGE_TAB] if can_manage else list(TABS)
    tab = request.GET.get("tab") or "open"
    if tab not in dict(tabs):
        tab = "open"
    context = {
        "tabs": tabs,
        "tab": tab,
        "can_manage": can_manage,
        "can_edit_risk": can_manage and associations_in_reach(user, "activities.manage").exists(),
        # Stations and bureaus organise activities but do not publish a team's 公示.
        "can_publish_notice": access.has_capability(user, "activities.publish_notice"),
    }
    if tab == "open":
        # 5.5: every card says why the volunteer cannot sign up, or show only those they can
        context["joinable_only"] = request.GET.get("joinable") == "1"
        rows = (
            selectors.joinable(user)
            if context["joinable_only"]
            else selectors.activities_for(user, upcoming=True)
        )
        page = paginate(request, rows, PER_PAGE)
        context["page"] = page
        context["mine"] = _my_statuses(user, page)
        context["why"] = selectors.why_not(user, page, context["mine"])
    elif tab == "near":
        lat = _coordinate(request.GET.get("lat"), 90)
        lon = _coordinate(request.GET.get("lon"), 180)
        context["located"] = lat is not None and lon is not None
        if context["located"]:
            rows = selectors.activities_for(user, upcoming=True)
            context["nearby"] = selectors.near(rows, lat, lon, limit=PER_PAGE)
            nearby = [a for a, _ in context["nearby"]]
            context["mine"] = _my_statuses(user, nearby)
            context["why"] = selectors.why_not(user, nearby, context["mine"])
    elif tab == "mine":
        context["page"] = paginate(request, selectors.my_participations(user), PER_PAGE)
    else:
        context["page"] = paginate(request, selectors.activities_for(user, manage=True), PER_PAGE)
    return render(request, "activities/list.html", context)


def _my_statuses(user, activities) -> dict[int, Participation]:
    ids = [a.pk for a in activities]
    if not ids:
        return {}
    return {p.activity_id: p for p in selectors.my_participations(user).filter(activity_id__in=ids)}


def _detail_context(request, activity) -> dict:
    user = request.user
    reasons = []
    mine = selectors.my_participation(user, activity)
    if activity.open_for_signup and (mine is None or not mine.is_active):
        reasons = services.eligibility_of(user, activity)
    confirmed = mine is not None and mine.status == ParticipationStatus.CONFIRMED
    return {
        "activity": activity,
        "mine": mine,
        "reasons": reasons,
        "open_for_signup": activity.open_for_signup,
        "waitlist_position": mine.waitlist_position() if mine is not None else None,
        "required_skills": list(activity.required_skills.all()),
        "audience_skills": list(activity.audience_skills.all()),
        "can_manage": selectors.can_manage(user, activity),
        "checkin_open": confirmed and activity.accepts_checkins,
        "checkin_opens_at": activity.checkin_opens_at,
        "checkout_closes_at": activity.checkout_closes_at,
        "checked_in": confirmed and selectors.checked_in_now(user, activity),
        "my_checkins": list(selectors.my_checkins(user, activity)) if mine else [],
    }


@login_required
def detail(request, activity_id):
    activity = services.get_activity_for_user(request.user, activity_id)
    return render(request, "activities/detail.html", _detail_context(request, activity))


def _answer(request, activity_id, action):
    """Run a sign-up answer; on a refusal show the detail again with the reason beside the
    buttons (and each unmet condition when the member is not eligible)."""
    activity = services.get_activity_for_user(request.user, activity_id)
    try:
        participation = action(user=request.user, activity=activity)
    except DomainError as exc:
        context = _detail_context(request, activity)
        context["action_error"] = exc.message
        context["reasons"] = getattr(exc, "reasons", None) or context["reasons"]
        return render(request, "activities/detail.html", context, status=exc.status)
    return activity, participation


@login_required
@require_POST
def sign_up(request, activity_id):
    result = _answer(request, activity_id, services.sign_up)
    if not isinstance(result, tuple):
        return result
    activity, participation = result
    if participation.status == ParticipationStatus.CONFIRMED:
        messages.success(request, "报名成功，请按时到达并签到。")
    else:
        messages.info(request, "名额已满，您已进入候补；有人取消时将按顺序递补并通知您。")
    return redirect("activities:detail", activity_id=activity.pk)


@login_required
@require_POST
def cancel_sign_up(request, activity_id):
    result = _answer(request, activity_id, services.cancel_sign_up)
    if not isinstance(result, tuple):
        return result
    messages.success(request, "已取消报名。")
    return redirect("activities:detail", activity_id=result[0].pk)


@login_required
@require_POST
def decline(request, activity_id):
    result = _answer(request, activity_id, services.decline)
    if not isinstance(result, tuple):
        return result
    messages.info(request, "已婉拒，组织者会看到您的答复。")
    return redirect("activities:detail", activity_id=result[0].pk)
