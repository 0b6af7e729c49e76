"""Check-in and check-out (5.2.9) as they happened — append-only — and the organiser's review of
a flagged record."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class CheckInKind(models.TextChoices):
    IN = "in", "签到"
    OUT = "out", "签退"


class CheckInMethod(models.TextChoices):
    GPS = "gps", "定位签到"
    QR = "qr", "扫码签到"
    MANUAL = "manual", "补签（组织者）"
    AUTO = "auto", "自动签退"


class Flag(models.TextChoices):
    """Why a check-in needs a person's review — suspicious, never silently dropped."""

    OUTSIDE_FENCE = "outside_fence", "不在签到范围内"
    IMPOSSIBLE_SPEED = "impossible_speed", "与上次签到间移动速度不合理"
    CLOCK_SKEW = "clock_skew", "设备时间与服务器时间相差过大"
    LOW_ACCURACY = "low_accuracy", "定位精度过低"
    AUTO_CHECKOUT = "auto_checkout", "未签退，系统自动签退"


class CheckIn(models.Model):
    """One check-in or check-out as it happened (append-only). `client_id` is generated on the
    phone, so a retried or re-synced offline record is recognised and never stored twice."""

    # Every index is written on each check-in: the foreign keys are covered by the composite
    # indexes below (their leading columns), so they have none of their own.
    activity = models.ForeignKey(
        "activities.Activity", on_delete=models.PROTECT, related_name="checkins", db_index=False
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="checkins", db_index=False
    )
    kind = models.CharField(max_length=4, choices=CheckInKind.choices)
    method = models.CharField(max_length=8, choices=CheckInMethod.choices)
    client_id = models.UUIDField(default=uuid.uuid4)
    # When it counts: the device's time for offline records judged plausible, else the server's.
    at = models.DateTimeField(db_index=True)
    device_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    offline = models.BooleanField(default=False)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    flagged = models.BooleanField(default=False)
    reason = models.CharField("补签原因", max_length=200, blank=True)
    # None = recorded by the platform itself (the automatic check-out).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["activity", "member", "at"], name="checkins_activity_member"),
            models.Index(fields=["member", "-at"], name="checkins_member_latest"),
            # the few flagged records, for the organiser's review list
            models.Index(fields=["activity"], condition=Q(flagged=True), name="checkins_flagged"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "client_id"],
                name="checkins_client_id_once",
                violation_error_message="该签到记录已提交。",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | (
                    Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="checkins_coordinates_range",
                violation_error_message="坐标超出范围。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member_id}@{self.activity_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("check-ins are append-only; add a review or a correction instead")
        super().save(*args, **kwargs)

    def flag_labels(self) -> list[str]:
        return [Flag(f).label for f in self.flags if f in Flag.values]


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", "认可"
    REJECTED = "rejected", "不认可"


class CheckInReview(models.Model):
    """The organiser's decision on a flagged check-in (append-only; the latest counts)."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    reason = models.CharField("理由", max_length=200)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["reviewed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} #{self.checkin_id}"
