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
    """Advance every activity whose clock has passed; returns counts per step."""
    now = now or timezone.now()
    counts = {"started": 0, "finished": 0, "checked_out": 0, "pruned": 0, "rebroadcast": 0}
    for activity in Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, starts_at__lte=now, ends_at__gt=now
    ):
        counts["started"] += transition(
            activity=activity, to=ActivityStatus.IN_PROGRESS, reason="到达开始时间"
        )
    ending = Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS], ends_at__lte=now
    )
    for activity in ending:
        counts["finished"] += transition(
            activity=activity, to=ActivityStatus.FINISHED, reason="到达结束时间"
        )
    due = Activity.objects.filter(
        checkouts_swept_at__isnull=True, checkout_due_at__lte=now
    ).exclude(status__in=[ActivityStatus.DRAFT, ActivityStatus.CANCELLED])
    for activity in due:
        counts["checked_out"] += auto_check_out(activity)
    counts["pruned"], _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - IDEMPOTENCY_TTL
    ).delete()
    counts["rebroadcast"] = _requeue_lost_broadcasts(now)
    return counts


def _requeue_lost_broadcasts(now) -> int:
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
