"""Accounts, roles, login with lockout, and API tokens (security.md, 等保 2.0 level 3).

Every login path (the login page, the token endpoint, anything calling `authenticate`) goes
through `authenticate_mobile`, so the lockout and its audit trail cannot be bypassed.
"""

import hashlib
import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import (
    ROLE_UNIT_KINDS,
    THREE_POWERS,
    ApiToken,
    LoginThrottle,
    Role,
    RoleAssignment,
    User,
    new_security_stamp,
    normalize_mobile,
    validate_mobile,
)
from hongfeng.audit.services import record_event
from hongfeng.core import hotpath
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.masking import mask_mobile
from hongfeng.core.workbooks import looks_like_formula
from hongfeng.orgs.models import Unit, UnitKind

TOKEN_PREFIX = "hf_"  # noqa: S105 — a public marker that makes leaked tokens greppable


class LoginFailed(DomainError):
    status = 401
    code = "invalid_credentials"

    def __init__(self, message: str = "手机号或密码不正确。", **kwargs):
        super().__init__(message, **kwargs)


class LockedOut(DomainError):
    status = 429
    code = "locked_out"


def _clean_person_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("请填写姓名。", code="name_required", field="name")
    if len(name) > 50:
        raise DomainError("姓名不能超过50个字。", code="name_too_long", field="name")
    if looks_like_formula(name):  # it would be a live formula in every workbook (2.1)
        raise DomainError("姓名不能以 =、+、-、@ 开头。", code="invalid_name", field="name")
    return name


def check_password_rules(password: str, user: User | None = None, *, field: str = "password"):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="weak_password", field=field) from None


def generate_initial_password() -> str:
    """A random password that satisfies the 等保 composition profile; shown to the admin once."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"Hf{core}#{secrets.randbelow(10)}"


# --- login --------------------------------------------------------------------------------


def _lock_message(until) -> str:
    local = timezone.localtime(until)
    return f"连续登录失败次数过多，账号已锁定至 {local:%H:%M}，请稍后再试或联系安全管理员解锁。"


def authenticate_mobile(*, mobile: str, password: str) -> User:
    """Check a mobile number and password. Five consecutive failures lock the number for fifteen
    minutes (configurable); a locked number is refused even with the right password. Every
    attempt is audited. Returns the user or raises LoginFailed/LockedOut.

    The whole decision happens under a row lock on the number's throttle row, so parallel
    attempts are counted one after another and a burst cannot try more than the limit."""
    mobile = normalize_mobile(mobile)
    if not mobile or len(mobile) != 11 or not mobile.isdigit():
        raise LoginFailed()
    with transaction.atomic():
        outcome = _attempt(mobile, password, timezone.now())
    if isinstance(outcome, DomainError):
        raise outcome  # raised after the commit, so the counted failure is kept
    return outcome


def _attempt(mobile: str, password: str, now) -> User | DomainError:
    LoginThrottle.objects.get_or_create(mobile=mobile)
    throttle = LoginThrottle.objects.select_for_update().get(mobile=mobile)
    user = User.objects.filter(mobile=mobile).first()
    if throttle.is_locked(now):
        _audit_failure(mobile, user, {"locked": True, "failures": throttle.failures})
        return LockedOut(_lock_message(throttle.locked_until))
    if user is None:
        User().set_password(password)  # same work as a real check: no timing oracle
        password_ok = False
    else:
        password_ok = user.check_password(password)
    if password_ok and user.is_active:
        LoginThrottle.objects.filter(pk=throttle.pk).update(failures=0, locked_until=None)
        record_event(action="auth.login", actor=user, target=user, unit=access.home_unit(user))
        return user
    if password_ok:
        # Only the holder of the right password learns that the account is disabled.
        _audit_failure(mobile, user, {"disabled": True})
        return LoginFailed("该账号已停用，请联系管理员。", code="account_disabled")
    return _count_failure(throttle, user, now)


def _count_failure(throttle: LoginThrottle, user: User | None, now) -> DomainError:
    if throttle.locked_until is not None and throttle.locked_until <= now:
        throttle.failures = 0  # the previous lock has run out: count afresh
        throttle.locked_until = None
    throttle.failures += 1
    throttle.last_failure_at = now
    locked = throttle.failures >= settings.LOCKOUT_FAILURES
    if locked:
        throttle.locked_until = now + settings.LOCKOUT_PERIOD
    throttle.save()
    _audit_failure(throttle.mobile, user, {"failures": throttle.failures})
    if not locked:
        return LoginFailed()
    _audit_failure(
        throttle.mobile,
        user,
        {"until": throttle.locked_until.isoformat(), "failures": throttle.failures},
        action="auth.locked_out",
    )
    return LockedOut(_lock_message(throttle.locked_until))


def _audit_failure(mobile: str, user: User | None, summary: dict, action="auth.login_failed"):
    record_event(
        action=action,
        actor=None,
        actor_label=user.name if user is not None else mask_mobile(mobile),
        target=user,
        target_label=mask_mobile(mobile) if user is None else None,
        unit=access.home_unit(user) if user is not None else None,
        summary=summary,
    )


@transaction.atomic
def unlock_login(*, actor: User, user: User) -> None:
    """A 安全管理员 lifts a lockout early."""
    if not access.can_unlock(actor, user):
        raise Forbidden("您无权解除该账号的锁定。")
    changed = LoginThrottle.objects.filter(mobile=user.mobile).update(failures=0, locked_until=None)
    if changed:
        record_event(action="auth.unlocked", actor=actor, target=user, unit=access.home_unit(user))


def record_logout(*, user: User, reason: str = "logout") -> None:
    action = "auth.session_expired" if reason != "logout" else "auth.logout"
    with transaction.atomic():
        record_event(
            action=action,
            actor=user,
            target=user,
            unit=access.home_unit(user),
            summary={"reason": reason},
        )


# --- API tokens ---------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


@transaction.atomic
def issue_api_token(*, user: User, label: str = "") -> IssuedToken:
    """A bearer token for API clients; the plaintext is returned once and only its digest kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user,
        digest=_digest(token),
        prefix=token[:10],
        label=label[:60],
        expires_at=timezone.now() + settings.API_TOKEN_TTL,
    )
    record_event(
        action="auth.token_issued",
        actor=user,
        target=user,
        unit=access.home_unit(user),
        summary={"token": record.prefix},
    )
    return IssuedToken(token=token, record=record)


def find_api_token(token: str) -> ApiToken | None:
    """The usable token record for a presented bearer token, touching `last_used_at` at most
    once a minute so that API traffic does not turn into a write per request."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # Every API request starts here, the ping included: SQL built once (core.hotpath).
    record = hotpath.fetch_one(ApiToken, "t0.digest = %s", [_digest(token)], related=("user",))
    now = timezone.now()
    if record is None or not record.is_usable(now):
        return None
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record


@transaction.atomic
def revoke_api_token(*, actor: User, record: ApiToken) -> None:
    if record.revoked_at is None:
        ApiToken.objects.filter(pk=record.pk).update(revoked_at=timezone.now())
        record_event(
            action="auth.token_revoked",
            actor=actor,
            target=record.user,
            unit=access.home_unit(record.user),
            summary={"token": record.prefix},
        )


# --- accounts -----------------------------------------------------------------------------


@transaction.atomic
def create_account(*, actor: User, mobile: str, name: str) -> tuple[User, str]:
    """Open an account for a person about to receive a role. Returns the account and its random
    initial password (shown once; the person must change it at first login)."""
    if not (access.grantable_roles(actor) or access.has_capability(actor, "accounts.manage")):
        raise Forbidden("您无权创建账号。")
    mobile = validate_mobile(mobile)
    name = _clean_person_name(name)
    if User.objects.filter(mobile=mobile).exists():
        raise Conflict("该手机号已注册账号。", code="duplicate_mobile", field="mobile")
    password = generate_initial_password()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                mobile=mobile, name=name, password=password, must_change_password=True
            )
    except IntegrityError:
        raise Conflict("该手机号已注册账号。", code="duplicate_mobile", field="mobile") from None
    record_event(action="account.created", actor=actor, target=user, unit=access.home_unit(actor))
    return user, password


@transaction.atomic
def bootstrap_three_powers_account(*, mobile: str, name: str, password: str | None, role: str):
    """Create (or reuse) an account holding a platform-wide 三权 role. Only for operators at the
    server (`hongfeng createsuperuser`, `hongfeng create_admin`); the web never calls it."""
    if role not in THREE_POWERS:
        raise DomainError("只能创建系统管理员、安全管理员或审计员。", code="invalid_role")
    mobile = validate_mobile(mobile)
    name = _clean_person_name(name)
    user = User.objects.select_for_update().filter(mobile=mobile).first()
    if user is None:
        if password:
            check_password_rules(password, User(mobile=mobile, name=name))
        user = User.objects.create_user(mobile=mobile, name=name, password=password)
        record_event(action="account.created", actor=None, actor_label="运维命令", target=user)
    _check_three_powers(user, role)
    _, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, unit=None, revoked_at=None
    )
    if created:
        record_event(
            action="role.granted",
            actor=None,
            actor_label="运维命令",
            target=user,
            summary={"role": role, "unit": None},
        )
    return user


def _check_three_powers(user: User, role: str) -> None:
    """等保 separation of duties: 系统管理员, 安全管理员 and 审计员 are never combined — with each
    other, nor with a business role (a 系统管理员 who were also an association admin would see
    the business personal data the separation keeps from them)."""
    held = set(RoleAssignment.objects.active().filter(user=user).values_list("role", flat=True))
    clash = held - {role} if role in THREE_POWERS else held & THREE_POWERS
    if clash:
        names = "、".join(Role(r).label for r in sorted(clash))
        raise Conflict(
            f"三权分立：该账号已是{names}，不能再担任{Role(role).label}。",
            code="three_powers_conflict",
            field="role",
        )


@transaction.atomic
def grant_role(*, actor: User, user: User, role: str, unit: Unit | None) -> RoleAssignment:
    """Grant `role` over `unit` (and its subtree). The actor may grant only inside their own
    scope (`access.can_grant`); the unit kind must fit the role; 三权 roles never combine; a team
    has exactly one 总队长 (5.2.4)."""
    if role not in Role.values:
        raise DomainError("未知的角色。", code="invalid_role", field="role")
    if unit is not None and unit.is_archived:
        raise DomainError("不能在已归档的单位上授权。", code="unit_archived", field="unit")
    if unit is not None and unit.kind not in ROLE_UNIT_KINDS[role]:
        kinds = "、".join(UnitKind(k).label for k in ROLE_UNIT_KINDS[role])
        raise DomainError(
            f"{Role(role).label}只能授予在{kinds}上。", code="invalid_role_unit", field="unit"
        )
    if unit is None and role not in THREE_POWERS:
        raise DomainError("请选择授权范围单位。", code="unit_required", field="unit")
    if user.pk == actor.pk:
        raise Forbidden("不能给自己授予角色。")
    if not access.can_grant(actor, role, unit):
        raise Forbidden("您只能在自己的管理范围内授予您有权授予的角色。")
    if not user.is_active:
        raise DomainError("该账号已停用，不能授权。", code="account_disabled", field="user")
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise grants per account
    _check_three_powers(user, role)
    exists = RoleAssignment.objects.active().filter(user=user, role=role, unit=unit)
    if exists.exists():
        raise Conflict("该账号已拥有此角色。", code="duplicate_role", field="role")
    if (
        role == Role.CAPTAIN
        and RoleAssignment.objects.active().filter(role=Role.CAPTAIN, unit=unit).exists()
    ):
        raise Conflict(
            "每个总队只能有一名总队长（5.2.4），请先撤销现任总队长。",
            code="captain_exists",
            field="role",
        )
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, role=role, unit=unit, granted_by=actor
            )
    except IntegrityError:
        raise Conflict("该授权与现有授权冲突，请刷新后重试。", code="duplicate_role") from None
    record_event(
        action="role.granted",
        actor=actor,
        target=user,
        unit=unit,
        summary={"role": role, "unit": unit.pk if unit else None, "assignment": assignment.pk},
    )
    access.forget(user)
    return assignment


@transaction.atomic
def grant_role_by_mobile(
    *, actor: User, mobile: str, name: str | None, role: str, unit: Unit | None
) -> tuple[RoleAssignment, str | None]:
    """Grant a role to the person with this mobile number, opening an account first when the
    number is not registered yet (then `name` is required). Returns the assignment and, for a new
    account, its one-time initial password. All or nothing: a refused grant creates no account.

    Finding an account by exact mobile reads outside the actor's scope on purpose — people move
    between counties. For an account the actor cannot see, the name given must match the
    account's, so that a number alone never reveals whose it is; the grant itself is checked
    against the actor's scope."""
    if not access.grantable_roles(actor):
        raise Forbidden("您无权授予角色。")
    mobile = validate_mobile(mobile)
    user = User.objects.filter(mobile=mobile).first()
    password = None
    out_of_scope = user is not None and not access.visible_users(actor).filter(pk=user.pk).exists()
    if out_of_scope and " ".join((name or "").split()) != user.name:
        raise DomainError(
            "该手机号已注册。请填写与该账号一致的真实姓名后再授权。",
            code="name_mismatch",
            field="name",
        )
    if user is None:
        if not (name or "").strip():
            raise DomainError(
                "该手机号尚未注册，请填写姓名以新建账号。", code="name_required", field="name"
            )
        user, password = create_account(actor=actor, mobile=mobile, name=name)
    return grant_role(actor=actor, user=user, role=role, unit=unit), password


@transaction.atomic
def revoke_role(*, actor: User, assignment: RoleAssignment, reason: str) -> RoleAssignment:
    """End a role assignment; the row stays as history."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("请填写撤销原因。", code="reason_required", field="reason")
    if len(reason) > 200:
        raise DomainError("撤销原因不能超过200个字。", code="reason_too_long", field="reason")
    if not assignment.is_active:
        raise DomainError("该授权已撤销。", code="already_revoked")
    if not access.can_grant(actor, assignment.role, assignment.unit):
        raise Forbidden("您无权撤销该授权。")
    now = timezone.now()
    updated = RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revoke_reason=reason
    )
    if not updated:
        raise DomainError("该授权已撤销。", code="already_revoked")
    assignment.refresh_from_db()
    record_event(
        action="role.revoked",
        actor=actor,
        target=assignment.user,
        unit=assignment.unit,
        summary={"role": assignment.role, "assignment": assignment.pk, "reason": reason},
    )
    access.forget(assignment.user)
    return assignment


def _end_everything(user: User) -> None:
    """Kill every session (the stamp is part of the session hash) and every API token."""
    User.objects.filter(pk=user.pk).update(
        security_stamp=new_security_stamp(), version=F("version") + 1
    )
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.refresh_from_db()


@transaction.atomic
def disable_account(*, actor: User, user: User, reason: str) -> User:
    """Disable an account: its sessions and API tokens end at once (security.md)."""
    if not access.can_manage_account(actor, user):
        raise Forbidden("您无权停用该账号。")
    if user.pk == actor.pk:
        raise Forbidden("不能停用自己的账号。")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("请填写停用原因。", code="reason_required", field="reason")
    if not user.is_active:
        raise DomainError("该账号已停用。", code="already_disabled")
    User.objects.filter(pk=user.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:200]
    )
    _end_everything(user)
    record_event(
        action="account.disabled",
        actor=actor,
        target=user,
        unit=access.home_unit(user) or access.home_unit(actor),
        summary={"reason": reason[:200]},
    )
    return user


@transaction.atomic
def enable_account(*, actor: User, user: User) -> User:
    if not access.can_manage_account(actor, user):
        raise Forbidden("您无权启用该账号。")
    if user.is_active:
        raise DomainError("该账号已是启用状态。", code="already_enabled")
    User.objects.filter(pk=user.pk).update(
        is_active=True, disabled_at=None, disabled_reason="", version=F("version") + 1
    )
    user.refresh_from_db()
    record_event(
        action="account.enabled",
        actor=actor,
        target=user,
        unit=access.home_unit(user) or access.home_unit(actor),
    )
    return user


@transaction.atomic
def reset_password(*, actor: User, user: User) -> str:
    """A 系统管理员 resets a password: a random one, shown once, to be changed at next login."""
    if not access.can_manage_account(actor, user):
        raise Forbidden("您无权重置该账号的密码。")
    if user.pk == actor.pk:
        raise Forbidden("请通过「修改密码」修改自己的密码。")
    password = generate_initial_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _end_everything(user)
    record_event(
        action="account.password_reset",
        actor=actor,
        target=user,
        unit=access.home_unit(user) or access.home_unit(actor),
    )
    return password


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> User:
    """The account holder changes their own password; other sessions and tokens end."""
    if not user.check_password(old_password or ""):
        raise DomainError("原密码不正确。", code="wrong_password", field="old_password")
    if old_password == new_password:
        raise DomainError("新密码不能与原密码相同。", code="same_password", field="new_password")
    check_password_rules(new_password, user, field="new_password")
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    _end_everything(user)
    record_event(
        action="auth.password_changed", actor=user, target=user, unit=access.home_unit(user)
    )
    return user
