"""Recruitment (5.2.2): a team's charter and code of conduct, applications through the public
form with their rate limit, and the consents people give (PIPL)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hongfeng.core import crypto
from hongfeng.core.masking import mask_id_number
from hongfeng.members.models.member import Skill


class ConsentKind(models.TextChoices):
    PRIVACY = "privacy", "个人信息处理"
    CHARTER = "charter", "队伍章程与行为规范"


class Consent(models.Model):
    """PIPL consent: which text (kind and version) the person agreed to, and when. Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents"
    )
    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    text_version = models.CharField("文本版本", max_length=40)
    consented_at = models.DateTimeField()

    class Meta:
        verbose_name = "同意记录"
        verbose_name_plural = "同意记录"
        ordering = ["-consented_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text_version}"


class Charter(models.Model):
    """A team's charter and code of conduct (5.2.2), versioned: a new text is a new row, so the
    version a member agreed to stays readable."""

    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="charters")
    version = models.PositiveIntegerField("版本")
    joining_conditions = models.TextField("入队条件", max_length=4000)
    rights_and_duties = models.TextField("权利与义务", max_length=4000)
    exit_rules = models.TextField("退出机制", max_length=4000)
    code_of_conduct = models.TextField("行为规范", max_length=4000)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        verbose_name = "队伍章程"
        verbose_name_plural = "队伍章程"
        ordering = ["team", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["team", "version"], name="members_charter_version"),
        ]

    def __str__(self) -> str:
        return f"{self.team} 章程 v{self.version}"

    @property
    def label(self) -> str:
        return f"v{self.version}（{self.published_at:%Y-%m-%d}）"


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "未通过"


class Application(models.Model):
    """An application to join a team through the public form (5.2.2 recruitment). The ID
    number is encrypted like a member file's; the password the applicant chose is kept only as
    a hash and becomes the account's password on approval."""

    code = models.CharField("申请编号", max_length=12, unique=True)
    team = models.ForeignKey(
        "orgs.Unit",
        verbose_name="申请加入的总队",
        on_delete=models.PROTECT,
        related_name="applications",
    )
    preferred_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="希望加入的分队/小组",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField("姓名", max_length=50)
    id_number_encrypted = models.TextField(editable=False)
    id_number_index = models.CharField(max_length=64, db_index=True, editable=False)
    mobile = models.CharField("手机号", max_length=11, db_index=True)
    password_hash = models.CharField(max_length=200, editable=False)
    skills = models.JSONField("技能", default=list, blank=True)
    motivation = models.CharField("申请说明", max_length=500, blank=True)
    charter = models.ForeignKey(
        Charter,
        verbose_name="同意的章程版本",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    privacy_version = models.CharField("同意的告知书版本", max_length=40)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.APPLIED,
        db_index=True,
    )
    submitted_at = models.DateTimeField("提交时间", db_index=True)
    ip = models.CharField(max_length=45, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = models.CharField("审核意见", max_length=200, blank=True)
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )

    class Meta:
        verbose_name = "入队申请"
        verbose_name_plural = "入队申请"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One open application per person at a time.
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=Q(status="applied"),
                name="members_one_open_application",
                violation_error_message="该身份证号已有待审核的申请。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted, field="members.id_number")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def skill_names(self) -> list[str]:
        """The skills the applicant ticked, by their Chinese names (the row keeps the codes);
        a code no longer in the catalogue is shown as it was stored."""
        names = dict(Skill.objects.filter(code__in=self.skills).values_list("code", "name"))
        return [names.get(code, code) for code in self.skills]


class ApplicationAttempt(models.Model):
    """One submission of the public form from one address, kept an hour for rate limiting."""

    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "申请提交记录"
        verbose_name_plural = "申请提交记录"

    def __str__(self) -> str:
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"
