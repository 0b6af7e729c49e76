"""一呼百应 (4.5): the broadcast of a published activity to every eligible member (who is
eligible: eligibility.py), and the notice to everyone signed up when it is cancelled — each
written in bulk by a background task, idempotent per subject."""

from django.db import transaction
from django.utils import timezone

from hongfeng.activities.models import Activity, Participation
from hongfeng.activities.services.eligibility import eligible_members

__all__ = ["queue_broadcast", "run_broadcast", "tell_participants"]


def queue_broadcast(activity_id: int) -> None:
    from hongfeng.activities.tasks import broadcast_activity

    transaction.on_commit(lambda: broadcast_activity.enqueue(activity_id))


def run_broadcast(activity_id: int) -> int:
    """一呼百应 (4.5): an inbox message (plus SMS/WeChat) to every eligible member, in bulk;
    idempotent, so a re-run task adds nothing. Returns how many people were reached."""
    from hongfeng.notices.services import Recipient, broadcast

    activity = Activity.objects.select_related("unit", "audience_unit").get(pk=activity_id)
    if not activity.open_for_signup:
        return 0
    rows = eligible_members(activity).values_list("user_id", "user__mobile").order_by("pk")
    start = timezone.localtime(activity.starts_at)
    count = broadcast(
        recipients=(
            Recipient(user_id, mobile) for user_id, mobile in rows.iterator(chunk_size=2000)
        ),
        kind="activity_broadcast",
        title=f"新活动：{activity.title}"[:60],
        body=(
            f"{activity.unit.name}发布了{activity.get_kind_display()}活动「{activity.title}」，"
            f"{start:%m月%d日 %H:%M}在{activity.place}，名额 {activity.capacity} 人。"
            "打开平台报名或婉拒。"
        ),
        ref=f"activity:{activity.pk}",
        link=f"/activities/{activity.pk}/",
    )
    from hongfeng.notices.models import Channel, Notice

    reached = Notice.objects.filter(ref=f"activity:{activity.pk}", channel=Channel.INBOX).count()
    Activity.objects.filter(pk=activity.pk).update(
        notified_count=reached, broadcast_done_at=timezone.now()
    )
    return count


def tell_participants(activity_id: int) -> int:
    """Tell everyone signed up or waiting that the activity was cancelled, with the reason."""
    from hongfeng.notices.services import Recipient, broadcast

    activity = Activity.objects.get(pk=activity_id)
    rows = (
        Participation.objects.active()
        .filter(activity=activity)
        .values_list("member__user_id", "member__user__mobile")
        .order_by("pk")
    )
    return broadcast(
        recipients=(Recipient(u, m) for u, m in rows),
        kind="activity_cancelled",
        title=f"活动取消：{activity.title}"[:60],
        body=f"您报名的活动「{activity.title}」已取消。原因：{activity.cancel_reason}",
        ref=f"activity:{activity.pk}:cancelled",
        link=f"/activities/{activity.pk}/",
    )
