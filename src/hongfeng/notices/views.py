"""消息: the in-app inbox — every logged-in user's notices, newest first, unread highlighted;
an activity broadcast (一呼百应) offers 报名 / 婉拒 on the activity's page while the member has
not answered and it is still open, else shows where their answer stands (notices.answers)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.core.forms import paginate
from hongfeng.notices import answers, services


@login_required
def inbox(request):
    only_unread = request.GET.get("unread") == "1"
    rows = services.inbox_of(request.user)
    if only_unread:
        rows = rows.filter(read_at__isnull=True)
    page = paginate(request, rows, 30)
    page.object_list = list(page.object_list)
    # an activity broadcast offers 报名 only while that is still the member's next step
    states = answers.states_of(request.user, page.object_list)
    for notice in page.object_list:
        notice.answer_state = states.get(notice.pk)
    return render(request, "notices/inbox.html", {"page": page, "only_unread": only_unread})


@login_required
@require_POST
def read(request, notice_id):
    services.mark_read(user=request.user, notice_id=access.parse_id(notice_id))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notices:inbox")


@login_required
@require_POST
def read_all(request):
    services.mark_read(user=request.user)
    return redirect("notices:inbox")
