"""Service hours (5.2.9): the append-only ledger per member and activity, and the team's
monthly public attendance notice (公示) built from it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class HoursSource(models.TextChoices):
    CHECKINS = "checkins", "签到计算"
    CORRECTION = "correction", "更正"


class HoursEntry(models.Model):
    """Service hours (5.2.9) as an append-only ledger per member and activity: the hours
    computed from check-ins when the activity is evaluated, and any audited corrections."""

    activity = models.ForeignKey(
        "activities.Activity", on_delete=models.PROTECT, related_name="hours"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="hours")
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    source = models.CharField(max_length=16, choices=HoursSource.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["member", "activity"], name="hours_member_activity")]
        constraints = [
            # Settled once per member and activity; everything after is a correction.
            models.UniqueConstraint(
                fields=["activity", "member"],
                condition=Q(source="checkins"),
                name="hours_settled_once",
                violation_error_message="该活动的服务时长已结算。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hours} h {self.member_id}@{self.activity_id}"


class AttendanceNotice(models.Model):
    """公示 (5.2.9): a team's monthly attendance, published by the captain as a snapshot —
    masked names, hours and activity counts. Republishing adds a new version."""

    team = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="attendance_notices"
    )
    month = models.DateField("月份", help_text="The first day of the month.")
    version = models.PositiveIntegerField(default=1)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rows = models.JSONField(default=list)
    total_hours = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    activity_count = models.PositiveIntegerField(default=0)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "month", "version"], name="attendance_notice_version"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="attendance_notice_month"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m} v{self.version}"
