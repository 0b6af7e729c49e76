"""A member's answer to an activity (5.2.3): signed up, waiting, cancelled or declined, and the
organiser's rating of how they did (5.4.5)."""

import enum

from django.conf import settings
from django.db import models


class Quality(models.TextChoices):
    """A participant's completion quality (5.4.5), rated by the organiser."""

    EXCELLENT = "excellent", "优秀"
    GOOD = "good", "良好"
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"


class ParticipationStatus(models.TextChoices):
    """A member's answer to an activity."""

    CONFIRMED = "confirmed", "已报名"
    WAITLISTED = "waitlisted", "候补中"
    CANCELLED = "cancelled", "已取消"
    DECLINED = "declined", "已婉拒"

    # Holding a place or waiting for one: in the activity's counters, told when it changes, and
    # free to cancel; the others may sign up (again).
    ACTIVE = enum.nonmember(frozenset({"confirmed", "waitlisted"}))


class ParticipationQuerySet(models.QuerySet):
    def active(self):
        """Participations holding a place or waiting for one (`Participation.is_active`)."""
        return self.filter(status__in=sorted(ParticipationStatus.ACTIVE))


class Participation(models.Model):
    """One member's answer to one activity: signed up, on the waitlist, cancelled or declined;
    later the organiser's quality rating (5.4.5)."""

    # indexed by participations_one_per_member (activity first): no index of its own
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.PROTECT,
        related_name="participations",
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="participations"
    )
    status = models.CharField(max_length=16, choices=ParticipationStatus.choices, db_index=True)
    # Waitlist order: first come, first promoted.
    queued_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    quality = models.CharField("完成质量", max_length=16, choices=Quality.choices, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rated_at = models.DateTimeField(null=True, blank=True)
    # Moved on by every write of a check-in record for this place (5.2.9): a check-in judged
    # on the records it read is stored only if nobody stored another in between — the
    # statement that stores it moves this on from the value read, or stores nothing and the
    # check-in is judged again (services.checkins). No row lock is held while judging.
    checkin_version = models.PositiveIntegerField(default=0, editable=False)

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        ordering = ["queued_at", "id"]
        indexes = [
            models.Index(fields=["activity", "status", "queued_at"], name="participations_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"],
                name="participations_one_per_member",
                violation_error_message="已报名该活动。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.activity_id} {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in ParticipationStatus.ACTIVE

    def waitlist_position(self) -> int | None:
        """Where the member waits, 1 = next to be promoted (first come, first promoted); None
        when not on the waitlist. One COUNT."""
        if self.status != ParticipationStatus.WAITLISTED:
            return None
        return Participation.objects.filter(
            activity_id=self.activity_id,
            status=ParticipationStatus.WAITLISTED,
            queued_at__lte=self.queued_at,
        ).count()
