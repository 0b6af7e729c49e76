"""积分 for volunteers on a phone: my level and the way to the next, my balance, every entry
with its explanation."""

import contextlib

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from hongfeng.core.forms import paginate
from hongfeng.members.selectors import own_member
from hongfeng.points import selectors, services
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
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils import timezone

    from hongfeng.accounts import access
    from hongfeng.activities.services import parse_month
    from hongfeng.core.errors import DomainError
    from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit

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
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "年份不合理。"))
        else:
            messages.success(request, f"已完成 {run.year} 年星级评定。")
        return redirect("points:ranking")
    # 5.3: a captain or station officer sees their team's published stars too
    runs = selectors.rating_runs_for(user)[:6]
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
    if request.GET.get("month"):
        with contextlib.suppress(DomainError):  # a malformed month shows this month
            month = parse_month(request.GET["month"])
    board = selectors.leaderboard(unit, month) if unit else None
    stats = selectors.level_distribution(unit) if unit else []
    return render(
        request,
        "points/ranking.html",
        {
            "runs": runs,
            "rateable": rateable,
            "this_year": timezone.localdate().year,
            "board": board,
            "board_unit": unit,
            "month": month,
            "stats": stats,
            "levels": LEVELS,
        },
    )


def public_rating(request, run_id):
    """A published star rating, for everyone."""
    from django.http import Http404

    from hongfeng.accounts.access import parse_id
    from hongfeng.core.errors import NotFound
    from hongfeng.points.models import RatingRun

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
