"""积分 for volunteers on a phone: my level and the way to the next, my balance, every entry
with its explanation."""

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
