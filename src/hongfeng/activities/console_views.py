"""Organiser pages at a desk (5.2.3, 5.2.9, 6.1.4): publishing an activity, and the console
that runs it — live counts, participants, check-ins and their reviews, manual check-in, the
rotating QR code, ratings, the evaluation, hours corrections and the status timeline.

Every action is one service call; a refusal re-renders the console with the message next to
the field that caused it and the form as it was typed."""

import uuid

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.activities import forms, qr, selectors, services
from hongfeng.activities.models import ActivityKind, ActivityStatus, ParticipationStatus, Quality
from hongfeng.activities.services.publishing import PUBLISHER_KINDS
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import add_domain_error, flash_domain_error
from hongfeng.members.selectors import get_member_for_user, names_shown_to
from hongfeng.orgs.models import Unit

UNIT_CHOICES_MAX = 500


def _publisher_units(user):
    return (
        Unit.objects.visible_to(user, "activities.manage")
        .active()
        .filter(kind__in=PUBLISHER_KINDS)
        .order_by("path")[:UNIT_CHOICES_MAX]
    )


def _audience_units(user):
    return (
        Unit.objects.visible_to(user, "activities.manage")
        .active()
        .order_by("path")[:UNIT_CHOICES_MAX]
    )


@login_required
def create(request):
    """A draft (保存草稿) or a published activity (保存并发布) in one step."""
    if not access.has_capability(request.user, "activities.manage"):
        raise PermissionDenied("您没有发布活动的权限。")
    units = list(_publisher_units(request.user))
    if not units:
        raise PermissionDenied(
            "您管理的单位中没有可以发布活动的单位（小组须以分队或总队名义发布）。"
        )
    audience = list(_audience_units(request.user))
    kind = ActivityKind.choices[0][0]  # the form's first kind, shown selected
    form = forms.ActivityForm(
        request.POST or None,
        units=units,
        audience_units=audience,
        initial={
            "unit": units[0].pk,
            "kind": kind,
            "radius_m": 300,
            "waitlist_limit": 50,
            # 5.4.7: pre-filled with the default; activity_risk.js follows the kind and unit
            "risk_assessment": services.default_risk_assessment(unit=units[0], kind=kind),
        },
    )
    if request.method == "POST" and form.is_valid():
        by_id = {u.pk: u for u in audience + units}
        unit = by_id[int(form.cleaned_data["unit"])]
        raw_audience = form.cleaned_data["audience_unit"]
        audience_unit = by_id[int(raw_audience)] if raw_audience else None
        publish = "publish" in request.POST
        try:
            with transaction.atomic():  # a refused publication keeps no half-made draft
                activity = services.create_activity(
                    actor=request.user,
                    unit=unit,
                    audience_unit=audience_unit,
                    data=form.activity_data(),
                )
                if publish:
                    services.publish_activity(actor=request.user, activity=activity)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                "活动已发布，正在通知符合条件的队员。"
                if publish
                else "草稿已保存，确认无误后点击「发布」。",
            )
            return redirect("activities:console", activity_id=activity.pk)
    return render(request, "activities/new.html", _form_context(form, units + audience))


def _form_context(form, units, **extra) -> dict:
    """The publish form and the default risk assessments its script fills in per kind and
    unit (5.4.7)."""
    return {"form": form, "risk_defaults": services.risk_defaults_for_units(units), **extra}


def _initial(activity) -> dict:
    """The form as the activity stands (times shown in the local time zone)."""
    return {
        "unit": activity.unit_id,
        "audience_unit": activity.audience_unit_id,
        "kind": activity.kind,
        "title": activity.title,
        "description": activity.description,
        "place": activity.place,
        "latitude": activity.latitude,
        "longitude": activity.longitude,
        "radius_m": activity.radius_m,
        "starts_at": timezone.localtime(activity.starts_at),
        "ends_at": timezone.localtime(activity.ends_at),
        "capacity": activity.capacity,
        "waitlist_limit": activity.waitlist_limit,
        "difficulty": activity.difficulty,
        "core_only": activity.core_only,
        "required_skills": [s.code for s in activity.required_skills.all()],
        "audience_skills": [s.code for s in activity.audience_skills.all()],
        "audience_categories": activity.audience_categories,
        "required_equipment": activity.required_equipment,
        "risk_assessment": activity.risk_assessment,
        "pre_job_training": activity.pre_job_training,
    }


@login_required
def edit(request, activity_id):
    """Change a draft, or a published activity before it starts (the publishing unit stays).
    A stale form (someone else saved in between) is refused, never silently overwritten."""
    activity = _managed(request, activity_id)
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        messages.error(request, "活动已开始或已结束，不能再修改。")
        return redirect("activities:console", activity_id=activity.pk)
    audience = list(_audience_units(request.user))
    form = forms.ActivityForm(
        request.POST or None,
        units=[activity.unit],
        audience_units=audience,
        initial=_initial(activity),
    )
    version = request.POST.get("version") if request.method == "POST" else activity.version
    if request.method == "POST" and form.is_valid():
        by_id = {u.pk: u for u in audience}
        raw_audience = form.cleaned_data["audience_unit"]
        try:
            services.update_activity(
                actor=request.user,
                activity=activity,
                audience_unit=by_id[int(raw_audience)] if raw_audience else activity.unit,
                data=form.activity_data(),
                expected_version=int(version) if str(version).isdigit() else -1,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "活动已修改。")
            return redirect("activities:console", activity_id=activity.pk)
    return render(
        request,
        "activities/new.html",
        _form_context(form, [activity.unit, *audience], activity=activity, version=version),
    )


def _managed(request, activity_id):
    activity = services.get_activity_for_user(request.user, activity_id)
    access.require(request.user, "activities.manage", activity.unit, "您无权管理该活动。")
    return activity


def _participant_choices(user, activity) -> list[tuple[int, str]]:
    name = names_shown_to(user)
    return [
        (p.member_id, f"{name(p.member)}（{p.member.unit.name}）")
        for p in selectors.participants(activity, statuses=(ParticipationStatus.CONFIRMED,))
    ]


def _console(request, activity, *, status: int = 200, **bound):
    """The console page; `bound` replaces a default form with the one just submitted."""
    people = list(selectors.participants(activity))
    name = names_shown_to(request.user)  # full for the team's own leaders, else masked
    choices = [
        (p.member_id, f"{name(p.member)}（{p.member.unit.name}）")
        for p in people
        if p.status == ParticipationStatus.CONFIRMED
    ]
    hours = services.hours_by_member(activity)
    for p in people:
        p.masked_name = name(p.member)
        p.hours = hours.get(p.member_id)
    checkins = list(selectors.checkins_of(activity)[:500])
    for c in checkins:
        c.masked_name = name(c.member)
        reviews = list(c.reviews.all())
        c.last_review = reviews[-1] if reviews else None
    review_error = bound.pop("review_error", None)
    context = {
        "activity": activity,
        "counts": selectors.live_counts(activity),
        "participants": people,
        "checkins": checkins,
        "flagged": [c for c in checkins if c.flagged and c.last_review is None],
        "history": activity.history.select_related("changed_by"),
        "qualities": Quality.choices,
        "review_form": forms.ReviewForm(),
        "review_error": review_error,
        "cancel_form": forms.ReasonForm(),
        "manual_form": forms.ManualCheckInForm(participants=choices),
        "evaluate_form": forms.EvaluateForm(),
        "correction_form": forms.CorrectionForm(participants=choices),
        "running": activity.status in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS),
        "cancellable": activity.can_become(ActivityStatus.CANCELLED),
        "started": timezone.now() >= activity.starts_at,
        **bound,
    }
    return render(request, "activities/console.html", context, status=status)


@login_required
def console(request, activity_id):
    return _console(request, _managed(request, activity_id))


@never_cache
@login_required
def counts(request, activity_id):
    """The live counts partial (htmx polls it every 5 s)."""
    activity = _managed(request, activity_id)
    return render(
        request,
        "activities/_counts.html",
        {"activity": activity, "counts": selectors.live_counts(activity)},
    )


@never_cache
@login_required
def qr_code(request, activity_id):
    """The rotating check-in code partial (htmx refreshes it every 10 s)."""
    activity = _managed(request, activity_id)
    now = timezone.now()
    token = qr.token_for(activity.pk, now)
    svg = segno.make_qr(token, error="m").svg_inline(
        scale=6, dark="#1d273b", border=2, omitsize=True, title="签到二维码"
    )
    return render(
        request,
        "activities/_qr.html",
        {
            "activity": activity,
            "token": token,
            "svg": svg,
            "seconds_left": max(qr.expires_at(now) - int(now.timestamp()), 0),
        },
    )


def _act(request, activity, action, success: str):
    """Run a console button's service; its refusal is shown as an error message."""
    try:
        action()
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, success)
    return redirect("activities:console", activity_id=activity.pk)


@login_required
@require_POST
def publish(request, activity_id):
    activity = _managed(request, activity_id)
    return _act(
        request,
        activity,
        lambda: services.publish_activity(actor=request.user, activity=activity),
        "活动已发布，正在通知符合条件的队员。",
    )


@login_required
@require_POST
def finish(request, activity_id):
    activity = _managed(request, activity_id)
    return _act(
        request,
        activity,
        lambda: services.finish_activity(actor=request.user, activity=activity),
        "活动已结束。请审核异常签到、评定完成质量，然后提交成效评估。",
    )


@login_required
@require_POST
def cancel(request, activity_id):
    activity = _managed(request, activity_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_activity(
                actor=request.user, activity=activity, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "活动已取消，已报名和候补的队员会收到通知。")
            return redirect("activities:console", activity_id=activity.pk)
    return _console(request, activity, status=400, cancel_form=form, open_cancel=True)


@login_required
@require_POST
def review(request, activity_id, checkin_id):
    activity = _managed(request, activity_id)
    checkin = services.get_checkin_for_user(request.user, checkin_id)
    if checkin.activity_id != activity.pk:
        raise NotFound()
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_check_in(
                actor=request.user,
                checkin=checkin,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "审核结果已记录。")
            return redirect("activities:console", activity_id=activity.pk)
    return _console(request, activity, status=400, review_error=(checkin.pk, form))


@login_required
@require_POST
def manual(request, activity_id):
    activity = _managed(request, activity_id)
    form = forms.ManualCheckInForm(
        request.POST, participants=_participant_choices(request.user, activity)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = get_member_for_user(request.user, data["member"], "members.view")
            services.manual_check_in(
                actor=request.user,
                activity=activity,
                member=member,
                kind=data["kind"],
                at=data["at"],
                reason=data["reason"],
                client_id=uuid.uuid4(),
            )
        except DomainError as exc:
            add_domain_error(form, _field(exc, {"member_id": "member"}))
        else:
            messages.success(request, "补签已记录（记入审计）。")
            return redirect("activities:console", activity_id=activity.pk)
    return _console(request, activity, status=400, manual_form=form)


def _field(exc: DomainError, renames: dict[str, str]) -> DomainError:
    """Point a service error at the page's field name (the API calls it member_id)."""
    exc.field = renames.get(exc.field, exc.field)
    return exc


@login_required
@require_POST
def rate(request, activity_id):
    activity = _managed(request, activity_id)
    ratings = {}
    for member_id, _label in _participant_choices(request.user, activity):
        value = request.POST.get(f"quality_{member_id}", "")
        if value:
            ratings[member_id] = value
    if not ratings:
        messages.error(request, "请至少为一名参与者选择完成质量。")
        return redirect("activities:console", activity_id=activity.pk)
    return _act(
        request,
        activity,
        lambda: services.rate_participants(actor=request.user, activity=activity, ratings=ratings),
        "完成质量已保存。",
    )


@login_required
@require_POST
def evaluate(request, activity_id):
    activity = _managed(request, activity_id)
    form = forms.EvaluateForm(request.POST)
    if form.is_valid():
        try:
            services.evaluate_activity(
                actor=request.user,
                activity=activity,
                effect=form.cleaned_data["effect"],
                summary=form.cleaned_data["summary"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "成效评估已提交，参与者的服务时长已结算。")
            return redirect("activities:console", activity_id=activity.pk)
    return _console(request, activity, status=400, evaluate_form=form)


@login_required
@require_POST
def correct(request, activity_id):
    activity = _managed(request, activity_id)
    form = forms.CorrectionForm(
        request.POST, participants=_participant_choices(request.user, activity)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = get_member_for_user(request.user, data["member"], "members.view")
            services.correct_hours(
                actor=request.user,
                activity=activity,
                member=member,
                hours=data["hours"],
                reason=data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, _field(exc, {"member_id": "member"}))
        else:
            messages.success(request, "服务时长已更正（记入审计）。")
            return redirect("activities:console", activity_id=activity.pk)
    return _console(request, activity, status=400, correction_form=form)
