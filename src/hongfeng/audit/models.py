"""Audit events: append-only rows, hash-chained so that a modified, inserted or deleted row is
detected by `hongfeng audit_verify`.

The chain is striped: there are `HONGFENG_AUDIT_STRIPES` independent chains and a writer appends
to whichever chain head it can lock without waiting (PostgreSQL `SKIP LOCKED`), so a burst of
writes never queues behind one global lock. Each chain head remembers its last sequence number
and hash under its own HMAC seal, which is how a deleted tail is noticed. (Winding a head back
to a state copied earlier is only caught against an outside record of `audit_verify` output.)
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(RuntimeError):
    """Audit rows are never changed or removed."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")

    def visible_to(self, user, capability: str = "audit.view"):
        from hongfeng.accounts.access import scope_q

        return self.filter(scope_q(user, capability, "unit"))


class AuditEvent(models.Model):
    """Who did what to which record, in which unit's scope, when, from where."""

    occurred_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_event_actor_time leads with it
    )
    actor_label = models.CharField("操作人", max_length=80, blank=True)
    action = models.CharField("操作", max_length=64)
    target_type = models.CharField("对象类型", max_length=40, blank=True)
    target_id = models.CharField("对象编号", max_length=40, blank=True)
    target_label = models.CharField("对象", max_length=120, blank=True)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="范围单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_event_unit_time leads with it
    )
    ip = models.CharField("IP", max_length=45, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)
    channel = models.CharField("渠道", max_length=16, blank=True)
    summary = models.JSONField("摘要", default=dict, blank=True)
    chain = models.PositiveSmallIntegerField("链")
    seq = models.PositiveBigIntegerField("序号")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq"),
        ]
        indexes = [
            models.Index(fields=["unit", "occurred_at"], name="audit_event_unit_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_event_actor_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_event_target"),
            # Every audited write inserts into each index: one per search the log offers. The
            # action filter matches exactly or by prefix ("activity."), which the pattern
            # operator class serves both ways on PostgreSQL.
            models.Index(
                fields=["action"], name="audit_event_action", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["request_id"], name="audit_event_request"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    @property
    def action_label(self) -> str:
        from hongfeng.audit.actions import action_label

        return action_label(self.action)

    @property
    def channel_label(self) -> str:
        """Where the request came from, in words (the code stays in the row and the API)."""
        return CHANNEL_LABELS.get(self.channel, self.channel or "—")

    @property
    def target_type_label(self) -> str:
        """The target's kind as its model's Chinese name ("accounts.user" → "用户")."""
        try:
            return str(apps.get_model(self.target_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.target_type


# core/context.py sets the channel of every request, task and system run.
CHANNEL_LABELS = {"web": "网页", "api": "接口", "task": "后台任务", "system": "系统"}


class AuditChainHead(models.Model):
    """The tip of one audit chain; locked while an event is appended to that chain."""

    chain = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    mac = models.CharField(max_length=64, help_text="HMAC over (chain, seq, hash)")

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"chain {self.chain} @ {self.seq}"


# A queued or running verification whose progress has not moved for this long was interrupted
# (a worker killed or restarted): another may be started, and the task may take it over.
VERIFICATION_STALE_AFTER = timedelta(minutes=5)


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "校验中"
    DONE = "done", "已完成"
    FAILED = "failed", "未完成"


class ChainVerification(models.Model):
    """One run of the audit chain verification asked for from the 安全审计 page. It recomputes
    every row's HMAC, which takes minutes on a big trail, so it runs as a background task and
    the page polls this row for progress and, at the end, what was found. (The audit event
    `audit.verified` is the permanent record; this row is the task's state.)"""

    status = models.CharField(
        "状态", max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("发起时间")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    # Moves with the progress: a running verification whose heartbeat stopped was interrupted
    # (a killed worker) and may be started again.
    heartbeat_at = models.DateTimeField("最近进度", null=True, blank=True)
    total = models.PositiveBigIntegerField("预计记录数", default=0)
    checked = models.PositiveBigIntegerField("已校验", default=0)
    ok = models.BooleanField("结果无异常", null=True, blank=True)
    problem_count = models.PositiveIntegerField("异常数", default=0)
    chains = models.JSONField("各链结果", default=list, blank=True)
    message = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "审计链校验"
        verbose_name_plural = "审计链校验"
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def live(self) -> bool:
        return self.status in (VerificationStatus.QUEUED, VerificationStatus.RUNNING)

    @property
    def stalled(self) -> bool:
        """Queued or running, but its progress stopped moving (see VERIFICATION_STALE_AFTER)."""
        beat = self.heartbeat_at or self.requested_at
        return self.live and beat < timezone.now() - VERIFICATION_STALE_AFTER

    @property
    def percent(self) -> int:
        if self.status == VerificationStatus.DONE:
            return 100
        return min(int(self.checked * 100 / self.total), 99) if self.total else 0
