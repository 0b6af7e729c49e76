"""Outgoing notices: one row per message per person, delivered by a background task through a
channel backend (the default backend only logs — no external calls anywhere in tests)."""

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    INBOX = "inbox", "站内消息"
    SMS = "sms", "短信"
    WECHAT = "wechat", "微信"


class NoticeStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Notice(models.Model):
    """A message to one person, kept with its delivery outcome."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    mobile = models.CharField("手机号", max_length=11, blank=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    kind = models.CharField("类型", max_length=40)
    title = models.CharField("标题", max_length=60)
    body = models.CharField("内容", max_length=500)
    # What the notice is about ("activity:12"): one notice per subject, person and channel, so a
    # re-run broadcast adds nothing; and the page the notice opens.
    ref = models.CharField("关联对象", max_length=120, blank=True, default="")
    link = models.CharField("链接", max_length=200, blank=True, default="")
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=NoticeStatus.choices,
        default=NoticeStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    error = models.CharField("失败原因", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "-created_at"], name="notices_inbox"),
            models.Index(fields=["ref", "channel"], name="notices_ref"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ref", "recipient", "channel"],
                condition=~models.Q(ref=""),
                name="notices_one_per_subject",
                violation_error_message="同一事项已通知过此人。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.title}"
