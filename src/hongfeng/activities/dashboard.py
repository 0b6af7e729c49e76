"""The activities app's home card (registered in activities.registrations): "my service"."""

from django.urls import reverse
from django.utils import timezone

from hongfeng.activities import selectors as activity_selectors
from hongfeng.activities.models import member_file_of
from hongfeng.activities.services.attendance import month_bounds
from hongfeng.core.dashboard import Card, Stat
from hongfeng.notices.services import unread_count


def service_cards(user) -> list[Card]:
    """For anyone with a member file — "what do I do next?" (ui.md): my next activities, unread
    messages, open activities I may join, my settled hours this month."""
    member = member_file_of(user)
    if member is None:
        return []
    now = timezone.now()
    mine = [
        p
        for p in activity_selectors.my_participations(user).filter(activity__ends_at__gt=now)
        if p.status in ("confirmed", "waitlisted")
    ]
    mine.sort(key=lambda p: p.activity.starts_at)
    start, end = month_bounds(timezone.localdate().replace(day=1))
    hours = activity_selectors.hours_between(member, start, end)
    activities = reverse("activities:list")
    card = Card(title="我的服务", subtitle="下一步做什么", url=f"{activities}?tab=mine")
    card.stats = [
        Stat(
            "本月服务时长", f"{hours:.2f}".rstrip("0").rstrip("."), "小时", f"{activities}?tab=mine"
        ),
        Stat("未读消息", unread_count(user), "条", f"{reverse('notices:inbox')}?unread=1"),
        # the same list the activity page's "只看我能报名的" shows (5.5)
        Stat(
            "可报名活动",
            len(activity_selectors.joinable(user)),
            "个",
            f"{activities}?tab=open&joinable=1",
        ),
    ]
    card.links = [
        (
            f"{timezone.localtime(p.activity.starts_at):%m月%d日 %H:%M}",
            f"{p.activity.title}（{p.get_status_display()}）",
            reverse("activities:detail", args=[p.activity_id]),
        )
        for p in mine[:3]
    ]
    if not mine:
        card.note = "还没有报名即将开始的活动。打开「可报名活动」看看有哪些任务需要您。"
    return [card]
