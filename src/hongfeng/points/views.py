"""积分 for volunteers on a phone: my level and the way to the next, my balance, every entry
with its explanation."""

import contextlib
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.access import parse_id
from hongfeng.activities.services import parse_month
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import flash_domain_error, paginate
from hongfeng.members.selectors import own_member
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit
from hongfeng.points import selectors, services
from hongfeng.points.models import RatingRun
from hongfeng.points.rules import LEVELS


@login_required
def mine(request):
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    coefficients, _rule, rule_label = services.rule_for(member.unit)
    return render(
        request,
        "points/mine.html",
        {
            "summary": selectors.summary(member),
            "page": paginate(request, selectors.entries_of(member), per_page=30),
            "levels": LEVELS,
            "rule_label": rule_label,
            "coefficients": coefficients,
        },
    )


@login_required
def ranking(request):
    """Team star ratings (7.2.3) of the associations in reach, the leaderboards of a unit, and
    the level statistics per unit; association admins run and publish ratings here."""
    user = request.user
    associations = list(
        Unit.objects.visible_to(user).filter(kind__in=ASSOCIATION_KINDS).order_by("path")[:200]
    )
    rateable = [a for a in associations if access.can(user, "points.rate", a)]
    if request.method == "POST":
        try:
            association = access.get_unit_for_user(user, request.POST.get("association"))
            run = services.run_rating(
                actor=user, association=association, year=int(request.POST.get("year") or 0)
            )
            if request.POST.get("publish"):
                services.publish_rating(actor=user, run=run)
        except ValueError:
            messages.error(request, "年份不合理。")
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, f"已完成 {run.year} 年星级评定。")
            # The run's page: its results, 复核 against the ledger, 公布 when ready.
            return redirect("points:rating", run.pk)
        return redirect("points:ranking")
    # 5.3: a captain or station officer sees their team's published stars too
    runs = selectors.runs_for(user)[:6]
    member = own_member(user)
    unit = (
        access.get_unit_for_user(user, request.GET["unit"], "members.view")
        if request.GET.get("unit")
        else (
            member.unit.team
            if member and member.unit.team_id
            else (member.unit if member else None)
        )
    )
    month = timezone.localdate().replace(day=1)
    chosen = False
    if request.GET.get("month"):
        with contextlib.suppress(DomainError):  # a malformed month shows this month
            month, chosen = parse_month(request.GET["month"]), True
    board = selectors.leaderboard(unit, month) if unit else None
    if board is not None and not chosen and not board["top"]:
        # Early in a month nothing is evaluated yet: show the month before, and say so.
        month = selectors.previous_month(month)
        board = {**selectors.leaderboard(unit, month), "fallback": True}
    stats = selectors.level_distribution(unit) if unit else []
    return render(
        request,
        "points/ranking.html",
        {
            "runs": runs,
            "rateable": rateable,
            "can_set_rules": access.has_capability(user, "points.rules"),
            "this_year": timezone.localdate().year,
            "board": board,
            "board_unit": unit,
            "month": month,
            "month_before": selectors.previous_month(month),
            "month_after": _next_month(month),
            "stats": stats,
            "levels": LEVELS,
        },
    )


def _next_month(month):
    """The month after `month`, or None when that is still to come."""
    following = (month + timedelta(days=32)).replace(day=1)
    return following if following <= timezone.localdate() else None


def public_rating(request, run_id):
    """A published star rating, for everyone."""
    try:
        pk = parse_id(run_id)
    except NotFound:
        raise Http404 from None
    run = (
        RatingRun.objects.filter(pk=pk, published=True)
        .select_related("association")
        .prefetch_related("results__team")
        .first()
    )
    if run is None:
        raise Http404
    return render(request, "points/public_rating.html", {"run": run})


@login_required
def rating_run(request, run_id):
    """One star-rating run (7.2.3) for whoever sees its association: the results; 复核 re-checks
    them against today's ledger (`GET /api/v1/star-ratings/{id}/check`); association admins
    公布 it (`POST …/publish`, the same service), after which it links to its public page."""
    user = request.user
    run = selectors.get_run_for_user(user, run_id)
    if request.method == "POST":
        if request.POST.get("action") != "publish":
            return redirect("points:rating", run.pk)
        services.publish_rating(actor=user, run=run)  # a Forbidden answers 403 (middleware)
        messages.success(request, f"已公布{run.association.name} {run.year} 年度星级评定。")
        return redirect("points:rating", run.pk)
    # The re-check is the association's: it reads the whole association's ledger. A captain
    # sees his team's published result, not the check.
    can_check = Unit.objects.visible_to(user).filter(pk=run.association_id).exists()
    problems = None
    if request.GET.get("check") and can_check:
        problems = services.check_rating(run)
    return render(
        request,
        "points/rating_run.html",
        {
            "run": run,
            "can_rate": access.can(user, "points.rate", run.association),
            "can_check": can_check,
            "checked": problems is not None,
            "problems": problems or [],
        },
    )
