"""一人一档: the member file itself (5.2.7) with the composition data of 5.2.6, party membership
(5.4.2) and the 1+1 partner (5.4.6); the statuses of dynamic management, with what each allows,
and their append-only history.

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
