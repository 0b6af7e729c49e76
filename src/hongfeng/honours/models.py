"""Honours, certificates and violations (积分考核 5.2.10).

- An association defines honour titles (荣誉称号): granted automatically when a member's settled
  service hours or cumulative points reach a threshold, or by hand only. A grant is once per
  member and title.
- A certificate (荣誉证书 or 志愿服务证明) freezes what it attests in a snapshot sealed with an
  HMAC; its QR code opens a public page that confirms the snapshot is genuine and unaltered.
- A warning (警告) is append-only; an association's rule (default: the second warning within 12
  months) proposes the member's exit to the captain, who decides.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ThresholdKind(models.TextChoices):
    HOURS = "hours", "服务时长（小时）"
    POINTS = "points", "累计积分（分）"
    MANUAL = "manual", "仅人工授予"


class HonourTitle(models.Model):
    """An association's honour title (5.2.10 honours by hours and contribution)."""

    association = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="honour_titles"
    )
    name = models.CharField("称号", max_length=40)
    description = models.CharField("说明", max_length=200, blank=True)
    threshold_kind = models.CharField("授予方式", max_length=8, choices=ThresholdKind.choices)
    threshold_value = models.DecimalField(
        "门槛", max_digits=10, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["association", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["association", "name"],
                name="honours_title_name_once",
                violation_error_message="该协会已有同名荣誉称号。",
            ),
            models.CheckConstraint(
                condition=(Q(threshold_kind="manual") & Q(threshold_value__isnull=True))
                | (~Q(threshold_kind="manual") & Q(threshold_value__gt=0)),
                name="honours_title_threshold_fits_kind",
                violation_error_message="按规则授予的称号须有大于 0 的门槛；人工授予的不设门槛。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rule_label(self) -> str:
        if self.threshold_kind == ThresholdKind.HOURS:
            return f"累计服务时长达到 {self.threshold_value.normalize():f} 小时"
        if self.threshold_kind == ThresholdKind.POINTS:
            return f"累计积分达到 {self.threshold_value.normalize():f} 分"
        return "由管理员授予"


class HonourGrant(models.Model):
    """A member holds a title: by the title's rule or by an admin (with a reason)."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="honour_grants"
    )
    title = models.ForeignKey(HonourTitle, on_delete=models.PROTECT, related_name="grants")
    by_rule = models.BooleanField("按规则授予", default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_on = models.DateField("授予日期")
    granted_at = models.DateTimeField(db_index=True)
    reason = models.CharField("事由", max_length=200)
    basis = models.JSONField("依据", default=dict, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "title"],
                name="honours_grant_once",
                violation_error_message="该队员已获得这一荣誉称号。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title_id} → {self.member_id}"


class CertificateKind(models.TextChoices):
    HONOUR = "honour", "荣誉证书"
    SERVICE_HOURS = "service_hours", "志愿服务证明"


class Certificate(models.Model):
    """An issued certificate. `snapshot` is everything it attests (name masked), sealed by
    `mac` = HMAC(key derived from SECRET_KEY, canonical snapshot); the PDF is rendered from the
    snapshot, so it never changes after issue. Revocation is the only later change."""

    serial = models.CharField("编号", max_length=24, unique=True)
    kind = models.CharField("类型", max_length=16, choices=CertificateKind.choices)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="issued_certificates"
    )
    grant = models.ForeignKey(
        HonourGrant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    snapshot = models.JSONField("证书内容")
    mac = models.CharField(max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["member", "-issued_at"], name="honours_cert_member")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="honour", grant__isnull=False)
                | Q(kind="service_hours", grant__isnull=True),
                name="honours_cert_grant_fits_kind",
            )
        ]

    def __str__(self) -> str:
        return self.serial

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ViolationRule(models.Model):
    """An association's rule (5.2.10 violations → warning, then exit): `warnings` warnings
    within `window_months` months propose exit. Without a row the default applies (2 in 12)."""

    association = models.OneToOneField(
        "orgs.Unit", on_delete=models.PROTECT, related_name="violation_rule"
    )
    warnings = models.PositiveSmallIntegerField("警告次数", default=2)
    window_months = models.PositiveSmallIntegerField("期间（月）", default=12)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(warnings__gte=1) & Q(warnings__lte=10),
                name="honours_rule_warnings_range",
            ),
            models.CheckConstraint(
                condition=Q(window_months__gte=1) & Q(window_months__lte=60),
                name="honours_rule_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.association_id}: {self.warnings}/{self.window_months}m"


class MemberWarning(models.Model):
    """A warning (警告) for a violation, with its reason and evidence. Append-only: a mistaken
    warning is answered by the captain rejecting the exit it proposes, never by an edit."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="warnings")
    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("警告事由", max_length=300)
    evidence = models.TextField("证据说明", max_length=2000)
    evidence_ref = models.CharField(
        "证据材料", max_length=200, blank=True, help_text="File number, archive place or link."
    )
    penalty_points = models.DecimalField(
        "扣减积分", max_digits=8, decimal_places=2, null=True, blank=True
    )
    points_entry = models.ForeignKey(
        "points.PointsEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["member", "issued_at"], name="honours_warning_member")]

    def __str__(self) -> str:
        return f"警告 #{self.member_id} {self.issued_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("warnings are append-only")
        super().save(*args, **kwargs)


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "待决定"
    CONFIRMED = "confirmed", "已确认退出"
    REJECTED = "rejected", "不予退出"


class ExitProposal(models.Model):
    """The rule's proposal that a member exit; the captain confirms (the member's status
    becomes 已退出 with a history row) or rejects it with a reason."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="exit_proposals"
    )
    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    warning = models.ForeignKey(MemberWarning, on_delete=models.PROTECT, related_name="+")
    warning_count = models.PositiveSmallIntegerField("期间内警告次数")
    rule_label = models.CharField("规则", max_length=80)
    status = models.CharField(
        "状态",
        max_length=12,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PENDING,
        db_index=True,
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField("决定理由", max_length=200, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status="pending"),
                name="honours_one_pending_exit",
                violation_error_message="该队员已有待决定的退出建议。",
            )
        ]

    def __str__(self) -> str:
        return f"退出建议 #{self.member_id} {self.status}"
