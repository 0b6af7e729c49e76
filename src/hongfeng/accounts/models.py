"""Accounts, scoped role assignments, API tokens and login throttling.

A role assignment is "role R over unit U and its subtree" (5.1 tower management). The three
powers of 等保 separation of duties (系统管理员, 安全管理员, 审计员) are roles too; they may be
platform-wide (no unit) and no account may hold two of them.
"""

import re
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hongfeng.core.errors import DomainError
from hongfeng.core.masking import mask_mobile
from hongfeng.core.pinyin import pinyin_of
from hongfeng.orgs.models import ASSOCIATION_KINDS, BUREAU_KINDS, UnitKind

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(raw: str | None) -> str:
    """Strip spaces, dashes and a +86/0086 prefix; full-width digits become ASCII."""
    if raw is None:
        return ""
    text = str(raw).translate({0xFF10 + i: ord("0") + i for i in range(10)})
    text = re.sub(r"[\s\-\u3000]", "", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def validate_mobile(raw: str | None, *, field: str = "mobile") -> str:
    """A mainland mobile number (11 digits starting 13–19), normalised; else a DomainError."""
    mobile = normalize_mobile(raw)
    if not MOBILE_RE.match(mobile):
        raise DomainError("请输入正确的11位手机号码。", code="invalid_mobile", field=field)
    return mobile


class Role(models.TextChoices):
    ASSOCIATION_ADMIN = "association_admin", "协会管理员"
    BUREAU_OFFICER = "bureau_officer", "公安机关民警"
    STATION_OFFICER = "station_officer", "派出所民警"
    CAPTAIN = "captain", "总队长"
    SQUAD_LEADER = "squad_leader", "分队长"
    GROUP_LEADER = "group_leader", "小组长"
    VOLUNTEER = "volunteer", "队员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDITOR = "auditor", "审计员"


THREE_POWERS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
ALL_UNIT_KINDS = frozenset(UnitKind.values)

# Which unit kinds a role may be anchored on.
ROLE_UNIT_KINDS: dict[str, frozenset] = {
    Role.ASSOCIATION_ADMIN: ASSOCIATION_KINDS,
    Role.BUREAU_OFFICER: BUREAU_KINDS,
    Role.STATION_OFFICER: frozenset({UnitKind.STATION}),
    Role.CAPTAIN: frozenset({UnitKind.TEAM}),
    Role.SQUAD_LEADER: frozenset({UnitKind.SQUAD}),
    Role.GROUP_LEADER: frozenset({UnitKind.GROUP}),
    Role.VOLUNTEER: frozenset({UnitKind.TEAM, UnitKind.SQUAD, UnitKind.GROUP}),
    Role.SYSTEM_ADMIN: ALL_UNIT_KINDS,
    Role.SECURITY_ADMIN: ALL_UNIT_KINDS,
    Role.AUDITOR: ALL_UNIT_KINDS,
}

# security.md: association admins, police users and the three powers are privileged (shorter idle
# timeout, two-factor in a later issue).
PRIVILEGED_ROLES = frozenset(
    {Role.ASSOCIATION_ADMIN, Role.BUREAU_OFFICER, Role.STATION_OFFICER} | THREE_POWERS
)


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, mobile: str, name: str, password: str | None = None, **extra):
        name = name.strip()
        extra.setdefault("name_pinyin", pinyin_of(name)[0])
        user = self.model(mobile=validate_mobile(mobile), name=name, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, mobile: str, name: str, password: str | None = None, **extra):
        """`hongfeng createsuperuser` makes a platform-wide 系统管理员 (see the README)."""
        from hongfeng.accounts.services import bootstrap_three_powers_account

        return bootstrap_three_powers_account(
            mobile=mobile, name=name, password=password, role=Role.SYSTEM_ADMIN
        )


class User(AbstractBaseUser):
    """A person who logs in with a mainland mobile number and a password."""

    mobile = models.CharField("手机号", max_length=11, unique=True)
    name = models.CharField("姓名", max_length=50)
    # The sort key of account lists (pinyin order, not code point order); set with the name.
    name_pinyin = models.CharField("姓名拼音", max_length=200, blank=True, editable=False)
    is_active = models.BooleanField("启用", default=True)
    must_change_password = models.BooleanField("须修改密码", default=False)
    # Part of the session hash: rotating it ends every session of the account at once.
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)
    date_joined = models.DateTimeField("注册时间", default=timezone.now)
    disabled_at = models.DateTimeField("停用时间", null=True, blank=True)
    disabled_reason = models.CharField("停用原因", max_length=200, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = UserManager()

    USERNAME_FIELD = "mobile"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"
        constraints = [
            models.CheckConstraint(
                condition=Q(mobile__regex=r"^1[3-9][0-9]{9}$"),
                name="accounts_user_mobile_format",
                violation_error_message="手机号格式不正确。",
            ),
        ]
        indexes = [models.Index(fields=["name_pinyin", "id"], name="accounts_user_pinyin")]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_mobile}）"

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    def get_session_auth_hash(self) -> str:
        # Django compares this on every request; including the stamp lets us end all sessions
        # (disable, password change) without hunting for session rows.
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "hongfeng.accounts.session",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()


class RoleAssignmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def visible_to(self, user, capability: str = "roles.view"):
        from hongfeng.accounts.access import scope_q

        return self.filter(scope_q(user, capability, "unit"))


class RoleAssignment(models.Model):
    """Role R over unit U and its subtree. Revocation sets `revoked_at`; rows are never deleted,
    so the history of who held which role stays."""

    user = models.ForeignKey(
        User, verbose_name="账号", on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="范围单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
        help_text="Empty only for a platform-wide 系统管理员/安全管理员/审计员.",
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name="授权人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField("授权时间", default=timezone.now)
    revoked_by = models.ForeignKey(
        User,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = models.CharField("撤销原因", max_length=200, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_role_user_active")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=Q(revoked_at__isnull=True),
                name="accounts_role_unique_active",
                violation_error_message="该账号已拥有此角色。",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(revoked_at__isnull=True, unit__isnull=True),
                name="accounts_role_unique_active_platform",
                violation_error_message="该账号已拥有此角色。",
            ),
            # 5.2.4: exactly one 总队长 per team.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(revoked_at__isnull=True, role="captain"),
                name="accounts_role_one_captain_per_team",
                violation_error_message="每个总队只能有一名总队长。",
            ),
            models.CheckConstraint(
                condition=Q(unit__isnull=False)
                | Q(role__in=["system_admin", "security_admin", "auditor"]),
                name="accounts_role_unit_required",
                violation_error_message="只有系统管理员、安全管理员和审计员可以是全平台范围。",
            ),
        ]

    def __str__(self) -> str:
        scope = self.unit.name if self.unit_id else "全平台"
        return f"{self.get_role_display()} @ {scope}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_label(self) -> str:
        return self.unit.name if self.unit_id else "全平台"


class ApiToken(models.Model):
    """A bearer token for mobile and API clients. Only a SHA-256 digest is stored; the token is
    shown once. Revocable, and expiring."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("前缀", max_length=12)
    label = models.CharField("名称", max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API令牌"
        verbose_name_plural = "API令牌"
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_token_user_active")]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class LoginThrottle(models.Model):
    """Failed-login counters (security.md T7). One table, four kinds of row, told apart by which
    of `mobile` and `source` is empty (`source` is the client address; an IPv6 address counts
    by its /64, see `throttling.source_of`):

    - (number, ""): consecutive failures on the account from anywhere → the 等保 lock, for all;
    - (number, address): failures on the account from that source → locks that source out;
    - ("", address): failures from that source on any account → a progressive delay;
    - ("", ""): failures platform-wide in the window → every failing source waits at once.

    Every login path (login page, API token, activation) shares them (`throttling`)."""

    mobile = models.CharField(max_length=11, blank=True, default="")
    source = models.CharField(max_length=45, blank=True, default="")
    failures = models.PositiveIntegerField(default=0)
    # Start of the current run of failures: the account lock counts the distinct sources that
    # failed since then; the global row restarts its window from it.
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"
        constraints = [
            models.UniqueConstraint(fields=["mobile", "source"], name="accounts_throttle_key"),
        ]

    def __str__(self) -> str:
        return f"{mask_mobile(self.mobile) or '*'} @ {self.source or '*'}"

    def is_locked(self, now) -> bool:
        return self.locked_until is not None and self.locked_until > now


class ActivationPurpose(models.TextChoices):
    ACCOUNT_CREATED = "account_created", "新建账号"
    PASSWORD_RESET = "password_reset", "重置密码"
    REQUESTED = "requested", "本人申请"


class ActivationCode(models.Model):
    """A one-time code sent to the account holder's own phone, with which the holder sets their
    password (2.2 of issue 15: the operator who opens or resets an account never sees a working
    credential). Only a keyed HMAC of the code is stored; it expires, works once, and is spent
    after a few wrong tries. Rows are kept as history (issued, used, spent, replaced)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="activation_codes")
    digest = models.CharField(max_length=64)
    purpose = models.CharField("用途", max_length=20, choices=ActivationPurpose.choices)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer code replaces this one or too many wrong tries spend it.
    void_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "激活码"
        verbose_name_plural = "激活码"
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_activation_user")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def is_open(self, now) -> bool:
        return self.used_at is None and self.void_at is None and self.expires_at > now
