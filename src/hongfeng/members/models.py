"""一人一档: one member file per volunteer (5.2.7), with the composition data of 5.2.6, party
membership (5.4.2), insurance (5.4.3), the 1+1 partner (5.4.6) and issued equipment (6.1.3).

The ID number and the health declaration are sensitive personal information (PIPL art. 28):
stored only encrypted, found by a keyed blind index, shown masked unless revealed.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from hongfeng.core import crypto
from hongfeng.core.masking import mask_id_number


class MemberStatus(models.TextChoices):
    """Dynamic management (5.2.7): every change is a StatusChange row."""

    PROBATION = "probation", "见习"
    ACTIVE = "active", "在队"
    CORE = "core", "核心队员"
    INACTIVE = "inactive", "不活跃"
    DEMOTED = "demoted", "降级"
    SUSPENDED = "suspended", "暂停"
    EXITED = "exited", "已退出"


# Which status may follow which. Leaving is possible from everywhere; coming back from
# "exited" happens only through a new application (5.2.2).
STATUS_FLOW: dict[str, frozenset] = {
    MemberStatus.PROBATION: frozenset({"active", "suspended", "exited"}),
    MemberStatus.ACTIVE: frozenset({"core", "inactive", "demoted", "suspended", "exited"}),
    MemberStatus.CORE: frozenset({"active", "inactive", "demoted", "suspended", "exited"}),
    MemberStatus.INACTIVE: frozenset({"active", "demoted", "suspended", "exited"}),
    MemberStatus.DEMOTED: frozenset({"active", "suspended", "exited"}),
    MemberStatus.SUSPENDED: frozenset({"active", "exited"}),
    MemberStatus.EXITED: frozenset(),
}
# Statuses in which a member counts as part of the team (composition checks, activities).
SERVING = frozenset(
    {
        MemberStatus.PROBATION,
        MemberStatus.ACTIVE,
        MemberStatus.CORE,
        MemberStatus.INACTIVE,
        MemberStatus.DEMOTED,
    }
)
# 1+1 pairing (5.4.6): a new member is paired with a veteran — in the team (or core) and
# there for six months.
PARTNER_STATUSES = frozenset({MemberStatus.ACTIVE, MemberStatus.CORE})
PAIRING_PERIOD = timedelta(days=183)


class Category(models.TextChoices):
    """Member categories of 5.4.6 (diverse groups)."""

    STUDENT = "student", "学生"
    RETIRED_CADRE = "retired_cadre", "退休干部"
    GIG_WORKER = "gig_worker", "新就业形态劳动者"
    ENTERPRISE = "enterprise", "企业职工"
    CIVIL_SERVANT = "civil_servant", "机关事业单位人员"
    OTHER = "other", "其他"


class PoliticalStatus(models.TextChoices):
    """5.4.2: party members are flagged."""

    PARTY_MEMBER = "party_member", "中共党员"
    PROBATIONARY = "probationary", "中共预备党员"
    LEAGUE_MEMBER = "league_member", "共青团员"
    DEMOCRATIC_PARTY = "democratic_party", "民主党派"
    MASSES = "masses", "群众"


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Skill(models.Model):
    """A professional skill (5.2.6): first aid, water rescue, mediation, law, driving…"""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("技能", max_length=40, unique=True)

    class Meta:
        verbose_name = "技能"
        verbose_name_plural = "技能"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberQuerySet(models.QuerySet):
    def serving(self):
        return self.filter(status__in=SERVING)

    def partner_candidates(self, day: date):
        """Members who may be the veteran of a 1+1 pair on `day`: the SQL twin of
        `Member.can_partner_on`."""
        return self.filter(status__in=sorted(PARTNER_STATUSES), joined_on__lte=day - PAIRING_PERIOD)

    def pre_job_trained_by(self, day: date):
        """The SQL twin of `Member.pre_job_trained_by` (5.3.1) — the one place, with it, that
        says what "pre-job training completed" means. Today: a completion date recorded on or
        before `day`; the training issue replaces both with "≥ 2 pre-job sessions attended"."""
        return self.filter(pre_job_training_on__lte=day)

    def visible_to(self, user, capability: str = "members.view"):
        """The access choke point for member files: the reach of the user's roles, plus their
        own file — added as an OR only when that file lies outside the reach (see
        `access.own_file_in_reach`: the OR costs a full scan on PostgreSQL)."""
        from hongfeng.accounts.access import own_file_in_reach, scope_q

        reach = scope_q(user, capability, "unit")
        if own_file_in_reach(user, capability) is False:
            return self.filter(reach | Q(user=user))
        return self.filter(reach)


class Member(models.Model):
    """一人一档: one file per person (5.2.7)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        on_delete=models.PROTECT,
        related_name="member",
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="所在单位",
        on_delete=models.PROTECT,
        related_name="members",
        help_text="The team, squad or group the member serves in.",
    )
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名拼音", max_length=200, editable=False)
    name_initials = models.CharField("拼音首字母", max_length=50, editable=False)
    id_number_encrypted = models.TextField("身份证号（密文）", editable=False)
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    id_last4 = models.CharField("身份证后四位", max_length=4, editable=False, db_index=True)
    birth_date = models.DateField("出生日期", editable=False)
    gender = models.CharField("性别", max_length=8, choices=Gender.choices, editable=False)
    address = models.CharField("住址", max_length=200, blank=True)
    emergency_contact = models.CharField("紧急联系人", max_length=50, blank=True)
    emergency_mobile = models.CharField("紧急联系电话", max_length=11, blank=True)
    health_fit = models.BooleanField("身体状况适合服务", default=True)
    health_declaration_encrypted = models.TextField("健康声明（密文）", blank=True, editable=False)
    political_status = models.CharField(
        "政治面貌", max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    category = models.CharField(
        "人员类别", max_length=20, choices=Category.choices, default=Category.OTHER
    )
    skills = models.ManyToManyField(
        Skill, verbose_name="专业技能", blank=True, related_name="members"
    )
    status = models.CharField(
        "状态",
        max_length=16,
        choices=MemberStatus.choices,
        default=MemberStatus.PROBATION,
        db_index=True,
    )
    status_changed_at = models.DateTimeField("状态变更时间")
    joined_on = models.DateField("入队日期")
    photo = models.CharField(
        "照片",
        max_length=100,
        blank=True,
        editable=False,
        help_text="Storage name of the re-encoded photo (private storage).",
    )
    partner = models.ForeignKey(
        "self",
        verbose_name="1+1 结对老队员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentees",
    )
    partnered_on = models.DateField("结对日期", null=True, blank=True)
    # 5.3.1 *Decision*: no tasks before pre-job training. A flag (the completion date) until the
    # training issue derives it from attended sessions.
    pre_job_training_on = models.DateField("岗前培训完成日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "队员档案"
        verbose_name_plural = "队员档案"
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="members_unit_status"),
            # Lists ordered by name (see migration 0010): a small reach sorts its files read
            # from this index alone; a large one walks the next in name order and stops after
            # one page. Both carry what the list filters on, so neither visits the table.
            models.Index(fields=["unit", "name", "id"], name="members_unit_name"),
            models.Index(fields=["name", "id", "unit", "status"], name="members_name_walk"),
            # prefix search (LIKE 'zs%') needs the pattern operator class on PostgreSQL
            models.Index(
                fields=["name_initials"],
                name="members_initials_like",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["name_pinyin"],
                name="members_pinyin_like",
                opclasses=["varchar_pattern_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(partner=models.F("id")),
                name="members_partner_not_self",
                violation_error_message="不能与自己结对。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # Sensitive fields: only ciphertext is stored; these decrypt on demand.
    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted, field="members.id_number")

    @property
    def health_declaration(self) -> str:
        return crypto.decrypt(self.health_declaration_encrypted, field="members.health")

    @property
    def masked_id_number(self) -> str:
        """3306**********1234 — decrypted in memory only to be masked."""
        return mask_id_number(self.id_number)

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def is_core(self) -> bool:
        return self.status == MemberStatus.CORE

    @property
    def is_party_member(self) -> bool:
        return self.political_status in (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY)

    @property
    def pre_job_trained(self) -> bool:
        return self.pre_job_training_on is not None

    def pre_job_trained_by(self, day: date) -> bool:
        """Whether the member had completed pre-job training (5.3.1) by `day`; the SQL twin is
        `MemberQuerySet.pre_job_trained_by` (change both together)."""
        return self.pre_job_training_on is not None and self.pre_job_training_on <= day

    def insured_on(self, day: date) -> bool:
        """Whether an accident insurance policy covers `day` (5.4.3); uses prefetched rows."""
        return any(p.covers(day) for p in self.insurances.all())

    def can_become(self, status: str) -> bool:
        return status in STATUS_FLOW[self.status]

    def can_partner_on(self, day: date) -> bool:
        """May be the veteran of a 1+1 pair (5.4.6) on `day`; the SQL twin is
        `MemberQuerySet.partner_candidates` (change both together)."""
        return self.status in PARTNER_STATUSES and self.joined_on <= day - PAIRING_PERIOD


class StatusChange(models.Model):
    """Append-only history of a member's status (5.2.7 dynamic management)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=MemberStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=MemberStatus.choices)
    reason = models.CharField("原因", max_length=200)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "状态变更"
        verbose_name_plural = "状态变更"
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_status} → {self.to_status}"


class Certificate(models.Model):
    """A professional certificate (5.2.6: ≥ 5% of members hold one), with issuer and expiry."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="certificates")
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

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="insurances")
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

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="equipment")
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
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
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


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    VALIDATING = "validating", "校验中"
    VALIDATED = "validated", "已校验"
    IMPORTING = "importing", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class RosterImport(models.Model):
    """One uploaded roster (4.5 队伍一键入驻): its checks, its report of every bad row, and
    what was imported. The uploaded file is kept only until the import ends."""

    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField("文件名", max_length=200)
    content = models.BinaryField("文件内容", editable=False)
    status = models.CharField(
        "状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    valid_only = models.BooleanField("仅导入通过校验的行", default=False)
    total_rows = models.PositiveIntegerField("数据行", default=0)
    valid_rows = models.PositiveIntegerField("通过校验", default=0)
    error_rows = models.PositiveIntegerField("有错误", default=0)
    imported_rows = models.PositiveIntegerField("已导入", default=0)
    report = models.JSONField("校验报告", default=list, blank=True)
    message = models.CharField("说明", max_length=300, blank=True)
    # Why it failed, for programs (the API's stable code: corrupt_file, not_xlsx, …).
    error_code = models.CharField("失败原因代码", max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "名册导入"
        verbose_name_plural = "名册导入"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.team} {self.filename}"

    @property
    def running(self) -> bool:
        return self.status in (
            ImportStatus.UPLOADED,
            ImportStatus.VALIDATING,
            ImportStatus.IMPORTING,
        )


class ApplicationAttempt(models.Model):
    """One submission of the public form from one address, kept an hour for rate limiting."""

    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "申请提交记录"
        verbose_name_plural = "申请提交记录"

    def __str__(self) -> str:
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"
