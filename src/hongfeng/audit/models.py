"""Audit events: append-only rows, hash-chained so that a modified, inserted or deleted row is
detected by `hongfeng audit_verify`.

The chain is striped: there are `HONGFENG_AUDIT_STRIPES` independent chains and a writer appends
to whichever chain head it can lock without waiting (PostgreSQL `SKIP LOCKED`), so a burst of
writes never queues behind one global lock. Each chain head remembers its last sequence number
and hash under its own HMAC seal, which is how a deleted tail is noticed. (Winding a head back
to a state copied earlier is only caught against an outside record of `audit_verify` output.)
"""

from django.apps import apps
from django.conf import settings
from django.db import models


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
