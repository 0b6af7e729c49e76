"""What a member file records beside the person (5.2.7): certificates held, accident insurance
(5.4.3) and equipment issued (6.1.3)."""

from datetime import date

from django.db import models
from django.db.models import Q


class Certificate(models.Model):
    """A professional certificate (5.2.6: ≥ 5% of members hold one), with issuer and expiry."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="certificates"
    )
    name = models.CharField("证书名称", max_length=80)
    issuer = models.CharField("发证机构", max_length=80)
    number = models.CharField("证书编号", max_length=60, blank=True)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)

    class Meta:
        verbose_name = "专业证书"
        verbose_name_plural = "专业证书"
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="members_certificate_dates",
                violation_error_message="有效期不能早于发证日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_valid_on(self, day: date) -> bool:
        return self.expires_on is None or self.expires_on >= day


class InsurancePolicy(models.Model):
    """Personal accident insurance (5.4.3): every active member is covered; expiry is watched."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="insurances"
    )
    insurer = models.CharField("保险公司", max_length=80)
    policy_number = models.CharField("保单号", max_length=60)
    starts_on = models.DateField("起保日期")
    ends_on = models.DateField("终止日期", db_index=True)

    class Meta:
        verbose_name = "意外保险"
        verbose_name_plural = "意外保险"
        ordering = ["-ends_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="members_insurance_dates",
                violation_error_message="终止日期不能早于起保日期。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.insurer} {self.policy_number}"

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class EquipmentKind(models.TextChoices):
    """6.1.3: uniform equipment, and protective gear for high-risk tasks."""

    UNIFORM = "uniform", "制服"
    SHOULDER_LIGHT = "shoulder_light", "肩灯"
    RADIO = "radio", "对讲机"
    PROTECTIVE_GEAR = "protective_gear", "防护装备"
    OTHER = "other", "其他"


class EquipmentIssue(models.Model):
    """One piece of equipment handed to a member, and its return."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="equipment")
    kind = models.CharField("装备", max_length=20, choices=EquipmentKind.choices)
    description = models.CharField("说明", max_length=80, blank=True)
    issued_on = models.DateField("发放日期")
    returned_on = models.DateField("归还日期", null=True, blank=True)

    class Meta:
        verbose_name = "装备发放"
        verbose_name_plural = "装备发放"
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(returned_on__isnull=True) | Q(returned_on__gte=models.F("issued_on")),
                name="members_equipment_dates",
                violation_error_message="归还日期不能早于发放日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
