"""Sending notices: a row now, delivery by a task after the commit (so a rolled-back change
never tells anyone anything), claimed with a conditional update so a retried task cannot send
twice. In-app inbox notices are "delivered" by being written.

Broadcasts (一呼百应, 4.5) write every row in bulk and deliver in chunks — one task per few
hundred people, not one per person."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hongfeng.notices.channels import backend_for
from hongfeng.notices.models import Channel, Notice, NoticeStatus

BULK_CHUNK = 2000
REF_MAX = Notice._meta.get_field("ref").max_length
DELIVERY_CHUNK = 500


@transaction.atomic
def notify(
    *,
    mobile: str,
    kind: str,
    title: str,
    body: str,
    recipient=None,
    channel: str = Channel.SMS,
    ref: str = "",
    link: str = "",
) -> tuple[Notice, bool]:
    """Queue one notice to one person. Returns (notice, created): with a `ref`, at most one per
    subject, person and channel — asking again returns the first notice, False, and sends
    nothing."""
    if len(ref) > REF_MAX:
        raise ValueError(f"notice ref longer than {REF_MAX} characters: {ref!r}")
    if ref:
        sent = Notice.objects.filter(ref=ref, recipient=recipient, channel=channel).first()
        if sent is not None:
            return sent, False
    inbox = channel == Channel.INBOX
    notice = Notice.objects.create(
        recipient=recipient,
        mobile=mobile,
        channel=channel,
        kind=kind,
        title=title[:60],
        body=body[:500],
        ref=ref,
        link=link,
        status=NoticeStatus.SENT if inbox else NoticeStatus.PENDING,
        sent_at=timezone.now() if inbox else None,
    )
    if not inbox:

        def enqueue() -> None:
            from hongfeng.notices.tasks import deliver_notice

            deliver_notice.enqueue(notice.pk)

        transaction.on_commit(enqueue)
    return notice, True


def notify_all(*, user, kind: str, title: str, body: str, ref: str = "", link: str = "") -> None:
    """One person on every channel: the inbox plus the configured outside channels."""
    for channel in [Channel.INBOX, *broadcast_channels()]:
        notify(
            mobile="" if channel == Channel.INBOX else user.mobile,
            recipient=user,
            channel=channel,
            kind=kind,
            title=title,
            body=body,
            ref=f"{ref}:{kind}" if ref else "",
            link=link,
        )


def broadcast_channels() -> list[str]:
    """Outside channels a broadcast uses besides the inbox (HONGFENG_BROADCAST_CHANNELS)."""
    return [c for c in settings.BROADCAST_CHANNELS if c in (Channel.SMS, Channel.WECHAT)]


@dataclass(frozen=True)
class Recipient:
    user_id: int
    mobile: str


def broadcast(*, recipients, kind: str, title: str, body: str, ref: str, link: str = "") -> int:
    """Write one inbox notice plus one per outside channel for every recipient, in bulk, and
    queue their delivery in chunks. Idempotent per `ref`: a second run adds only the missing
    rows (the unique constraint on ref, recipient and channel). Returns the number of people."""
    now = timezone.now()
    outside = broadcast_channels()
    people = 0
    batch: list[Notice] = []

    def flush() -> None:
        Notice.objects.bulk_create(batch, batch_size=BULK_CHUNK, ignore_conflicts=True)
        batch.clear()

    for person in recipients:
        people += 1
        for channel in [Channel.INBOX, *outside]:
            inbox = channel == Channel.INBOX
            batch.append(
                Notice(
                    recipient_id=person.user_id,
                    mobile="" if inbox else person.mobile,
                    channel=channel,
                    kind=kind,
                    title=title[:60],
                    body=body[:500],
                    ref=ref,
                    link=link,
                    status=NoticeStatus.SENT if inbox else NoticeStatus.PENDING,
                    sent_at=now if inbox else None,
                    created_at=now,
                )
            )
        if len(batch) >= BULK_CHUNK:
            flush()
    flush()
    if outside:
        queue_pending(ref)
    return people


def queue_pending(ref: str) -> int:
    """Queue delivery of the still-pending outside notices of one subject, a chunk per task."""
    from hongfeng.notices.tasks import deliver_notices

    ids = list(
        Notice.objects.filter(ref=ref, status=NoticeStatus.PENDING, attempts=0)
        .exclude(channel=Channel.INBOX)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), DELIVERY_CHUNK):
        chunk = ids[start : start + DELIVERY_CHUNK]
        transaction.on_commit(lambda chunk=chunk: deliver_notices.enqueue(chunk))
    return len(ids)


@transaction.atomic
def send_secret(
    *, recipient, kind: str, title: str, body: str, secret: str, channel: str = Channel.SMS
) -> Notice:
    """A notice to `recipient`'s own phone whose text carries a secret (an activation code).
    The row keeps the text with the secret masked; the full text exists only in memory and goes
    to the channel right after the commit — never through the task queue, whose rows live in the
    database like everything else. A failed send is recorded on the notice like any other."""
    if not secret or secret not in body:
        raise ValueError("send_secret needs the secret inside the body")
    notice = Notice.objects.create(
        recipient=recipient,
        mobile=recipient.mobile,
        channel=channel,
        kind=kind,
        title=title[:60],
        body=body.replace(secret, "*" * len(secret))[:500],
        status=NoticeStatus.PENDING,
    )
    transaction.on_commit(lambda: _send_once(notice.pk, body=body, secret=secret))
    return notice


def deliver(notice_id: int) -> None:
    """Send a pending notice once."""
    deliver_many([notice_id])


def deliver_many(notice_ids: list[int]) -> None:
    """Send pending notices once each: claimed by a conditional update (a retried or duplicated
    task finds them claimed), every outcome recorded on the notice."""
    for notice_id in notice_ids:
        _send_once(notice_id)


def _send_once(notice_id: int, *, body: str | None = None, secret: str = "") -> None:
    claimed = Notice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING, attempts=0).update(
        attempts=1
    )
    if not claimed:
        return
    notice = Notice.objects.get(pk=notice_id)
    if secret:
        # In memory only: this instance is never saved (the updates below name their columns).
        notice.body, notice.secret = body, secret
    try:
        backend_for(notice.channel).send(notice)
    except Exception as exc:  # any failure is recorded on the notice, never lost silently
        Notice.objects.filter(pk=notice_id).update(status=NoticeStatus.FAILED, error=str(exc)[:200])
        return
    Notice.objects.filter(pk=notice_id).update(status=NoticeStatus.SENT, sent_at=timezone.now())


def inbox_of(user):
    """The user's in-app messages, newest first."""
    return Notice.objects.filter(recipient=user, channel=Channel.INBOX)


def unread_count(user) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()


@transaction.atomic
def mark_read(*, user, notice_id: int | None = None) -> int:
    """Mark one inbox message (or all of them) read; only the user's own. Audited like every
    write (T5), as one event however many messages."""
    from hongfeng.audit.services import record_event

    rows = inbox_of(user).filter(read_at__isnull=True)
    if notice_id is not None:
        rows = rows.filter(pk=notice_id)
    changed = rows.update(read_at=timezone.now())
    record_event(action="notice.read", actor=user, summary={"notice": notice_id, "count": changed})
    return changed
