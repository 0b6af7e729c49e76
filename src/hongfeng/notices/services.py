"""Sending notices: a row now, delivery by a task after the commit (so a rolled-back change
never tells anyone anything), claimed with a conditional update so a retried task cannot send
twice."""

from django.db import transaction
from django.utils import timezone

from hongfeng.notices.channels import backend_for
from hongfeng.notices.models import Channel, Notice, NoticeStatus


@transaction.atomic
def notify(
    *, mobile: str, kind: str, title: str, body: str, recipient=None, channel: str = Channel.SMS
) -> Notice:
    """Queue one notice to one person."""
    notice = Notice.objects.create(
        recipient=recipient,
        mobile=mobile,
        channel=channel,
        kind=kind,
        title=title[:60],
        body=body[:500],
    )

    def enqueue() -> None:
        from hongfeng.notices.tasks import deliver_notice

        deliver_notice.enqueue(notice.pk)

    transaction.on_commit(enqueue)
    return notice


def deliver(notice_id: int) -> None:
    """Send a pending notice once."""
    claimed = Notice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING, attempts=0).update(
        attempts=1
    )
    if not claimed:
        return
    notice = Notice.objects.get(pk=notice_id)
    try:
        backend_for(notice.channel).send(notice)
    except Exception as exc:  # any failure is recorded on the notice, never lost silently
        Notice.objects.filter(pk=notice_id).update(status=NoticeStatus.FAILED, error=str(exc)[:200])
        return
    Notice.objects.filter(pk=notice_id).update(status=NoticeStatus.SENT, sent_at=timezone.now())
