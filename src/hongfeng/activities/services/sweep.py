"""The one idempotent sweep for activity clocks (architecture.md: deadline columns plus a
sweep): published → in progress at the start, → finished at the end, automatic check-out after
the grace period, and pruning of day-old idempotency records. Safe to run twice or in
parallel: every step is a conditional update or an insert that ignores duplicates."""

from datetime import timedelta

from django.utils import timezone

from hongfeng.activities.models import Activity, ActivityStatus, IdempotencyRecord
from hongfeng.activities.services.checkins import auto_check_out
from hongfeng.activities.services.publishing import transition

__all__ = ["sweep_activities"]

IDEMPOTENCY_TTL = timedelta(hours=24)


def sweep_activities(now=None) -> dict[str, int]:
    """Advance every activity whose clock has passed; returns counts per step."""
    now = now or timezone.now()
    counts = {"started": 0, "finished": 0, "checked_out": 0, "pruned": 0}
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
    return counts
