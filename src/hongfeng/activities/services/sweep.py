"""The one idempotent sweep for activity clocks (architecture.md: deadline columns plus a
sweep): published → in progress at the start, → finished at the end, automatic check-out after
the grace period, pruning of day-old idempotency records, and re-queueing a broadcast whose
task never finished. Safe to run twice or in
parallel: every step is a conditional update or an insert that ignores duplicates."""

from datetime import timedelta

from django.utils import timezone

from hongfeng.activities.models import Activity, ActivityStatus, IdempotencyRecord
from hongfeng.activities.services.broadcast import queue_broadcast
from hongfeng.activities.services.checkins import auto_check_out
from hongfeng.activities.services.publishing import transition

__all__ = ["sweep_activities"]

IDEMPOTENCY_TTL = timedelta(hours=24)
BROADCAST_GRACE = timedelta(minutes=10)


def sweep_activities(now=None) -> dict[str, int]:
    """Every step below at `now`, in order; returns counts per step (the registered sweep steps
    of `hongfeng sweep` are these functions, see activities.registrations)."""
    now = now or timezone.now()
    return {
        "started": start_due(now),
        "finished": finish_due(now),
        "checked_out": check_out_due(now),
        "pruned": prune_idempotency_records(now),
        "rebroadcast": requeue_lost_broadcasts(now),
    }


def start_due(now) -> int:
    """Published activities whose start has passed (and end has not) are in progress."""
    started = 0
    for activity in Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, starts_at__lte=now, ends_at__gt=now
    ):
        started += transition(
            activity=activity, to=ActivityStatus.IN_PROGRESS, reason="到达开始时间"
        )
    return started


def finish_due(now) -> int:
    """Published or running activities whose end has passed are finished."""
    finished = 0
    ending = Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS], ends_at__lte=now
    )
    for activity in ending:
        finished += transition(activity=activity, to=ActivityStatus.FINISHED, reason="到达结束时间")
    return finished


def check_out_due(now) -> int:
    """Everyone still checked in when the grace after the end ran out (`checkout_due_at`,
    indexed) is checked out automatically."""
    checked_out = 0
    due = Activity.objects.filter(
        checkouts_swept_at__isnull=True, checkout_due_at__lte=now
    ).exclude(status__in=[ActivityStatus.DRAFT, ActivityStatus.CANCELLED])
    for activity in due:
        checked_out += auto_check_out(activity)
    return checked_out


def prune_idempotency_records(now) -> int:
    """Stored answers to idempotent writes are kept for IDEMPOTENCY_TTL."""
    pruned, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
    return pruned


def requeue_lost_broadcasts(now) -> int:
    """A broadcast whose task never finished (a killed worker, a lost queue row) is queued again
    after BROADCAST_GRACE; the broadcast is idempotent, so nobody is told twice."""
    lost = Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS],
        broadcast_done_at__isnull=True,
        published_at__lt=now - BROADCAST_GRACE,
    ).values_list("pk", flat=True)
    ids = list(lost[:100])
    for activity_id in ids:
        queue_broadcast(activity_id)
    return len(ids)
