"""Accounts, roles and API tokens (security.md, 等保 2.0 level 3). Password login and its
throttles are in `login` and `throttling`, activation codes in `activation`.

No service here returns a credential: new and reset accounts get a code on their holder's own
phone (issue 15, 2.2).
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.activation import ActivationSent, send_activation_code
from hongfeng.accounts.models import (
    ROLE_UNIT_KINDS,
    THREE_POWERS,
    ActivationPurpose,
    ApiToken,
    Role,
    RoleAssignment,
    User,
    validate_mobile,
)
from hongfeng.accounts.passwords import check_password_rules
from hongfeng.accounts.sessions import end_sessions
from hongfeng.audit.services import record_event
from hongfeng.core import hotpath
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.workbooks import looks_like_formula
from hongfeng.orgs.models import Unit, UnitKind

TOKEN_PREFIX = "hf_"  # noqa: S105 — a public marker that makes leaked tokens greppable


def _clean_person_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("请填写姓名。", code="name_required", field="name")
    if len(name) > 50:
        raise DomainError("姓名不能超过50个字。", code="name_too_long", field="name")
    if looks_like_formula(name):  # it would be a live formula in every workbook (2.1)
        raise DomainError("姓名不能以 =、+、-、@ 开头。", code="invalid_name", field="name")
    return name


# One answer for every refused grant to a number the granter does not manage (issue 15, 2.4):
# whether the number is registered, whose it is and what roles it holds stay unknown.
NOT_GRANTABLE = (
    "无法按此手机号授权。新号码请填写姓名以新建账号；已在其他单位登记的号码，"
    "请填写与其账号一致的真实姓名，或请其所在单位办理。"
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
def create_account(*, actor: User, mobile: str, name: str) -> tuple[User, ActivationSent]:
    """Open an account without a password for a person about to receive a role; an activation
    code goes to their own phone (after the commit). Returns the account and where the code
    went — the operator never holds a credential of the account."""
    if not (access.grantable_roles(actor) or access.has_capability(actor, "accounts.manage")):
        raise Forbidden("您无权创建账号。")
    mobile = validate_mobile(mobile)
    name = _clean_person_name(name)
    if User.objects.filter(mobile=mobile).exists():
        raise Conflict("该手机号已注册账号。", code="duplicate_mobile", field="mobile")
    try:
        with transaction.atomic():
            user = User.objects.create_user(mobile=mobile, name=name, password=None)
    except IntegrityError:
        raise Conflict("该手机号已注册账号。", code="duplicate_mobile", field="mobile") from None
    record_event(action="account.created", actor=actor, target=user, unit=access.home_unit(actor))
    sent = send_activation_code(user=user, purpose=ActivationPurpose.ACCOUNT_CREATED, actor=actor)
    return user, sent


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


def _check_grant(actor: User, role: str, unit: Unit | None) -> None:
    """What a grant needs whoever receives it: a known role, a live unit of a fitting kind, the
    actor's right to grant it there, and (5.2.4) no sitting 总队长. Checked before the person
    is looked up, so these answers never depend on — nor tell anything about — the number."""
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
    if not access.can_grant(actor, role, unit):
        raise Forbidden("您只能在自己的管理范围内授予您有权授予的角色。")
    if (
        role == Role.CAPTAIN
        and RoleAssignment.objects.active().filter(role=Role.CAPTAIN, unit=unit).exists()
    ):
        raise Conflict(
            "每个总队只能有一名总队长（5.2.4），请先撤销现任总队长。",
            code="captain_exists",
            field="role",
        )


@transaction.atomic
def grant_role(*, actor: User, user: User, role: str, unit: Unit | None) -> RoleAssignment:
    """Grant `role` over `unit` (and its subtree). The actor may grant only inside their own
    scope (`access.can_grant`); the unit kind must fit the role; 三权 roles never combine; a team
    has exactly one 总队长 (5.2.4)."""
    if user.pk == actor.pk and role in Role.values:
        raise Forbidden("不能给自己授予角色。")
    _check_grant(actor, role, unit)
    if not user.is_active:
        raise DomainError("该账号已停用，不能授权。", code="account_disabled", field="user")
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise grants per account
    _check_three_powers(user, role)
    exists = RoleAssignment.objects.active().filter(user=user, role=role, unit=unit)
    if exists.exists():
        raise Conflict("该账号已拥有此角色。", code="duplicate_role", field="role")
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
) -> tuple[RoleAssignment, ActivationSent | None]:
    """Grant a role to the person with this mobile number, opening an account first when the
    number is not registered yet (then `name` is required; an activation code goes to the
    number). Returns the assignment and, for a new account, where its code went. All or
    nothing: a refused grant creates no account.

    Finding an account by exact mobile reads outside the actor's scope on purpose — people move
    between counties. For a number the actor does not manage, the name given must match the
    account's, and every refusal is the one generic `not_grantable` (issue 15, 2.4): the same
    code, message and status whether the number is unregistered, belongs to someone else, or
    holds a role that clashes — a number alone never tells whose it is or what it holds. For
    an account the actor manages, the precise errors stay."""
    if not access.grantable_roles(actor):
        raise Forbidden("您无权授予角色。")
    mobile = validate_mobile(mobile)
    _check_grant(actor, role, unit)
    name = " ".join((name or "").split())
    if name:
        name = _clean_person_name(name)
    user = User.objects.filter(mobile=mobile).first()
    if user is not None and access.visible_users(actor).filter(pk=user.pk).exists():
        return grant_role(actor=actor, user=user, role=role, unit=unit), None
    if user is None and name:
        user, sent = create_account(actor=actor, mobile=mobile, name=name)
        return grant_role(actor=actor, user=user, role=role, unit=unit), sent
    if user is None or name != user.name:
        raise DomainError(NOT_GRANTABLE, code="not_grantable", field="mobile")
    try:
        return grant_role(actor=actor, user=user, role=role, unit=unit), None
    except DomainError:
        raise DomainError(NOT_GRANTABLE, code="not_grantable", field="mobile") from None


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
    end_sessions(user)
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
def reset_password(*, actor: User, user: User) -> ActivationSent:
    """A 系统管理员 resets a password: the old one stops working at once, every session and
    token ends, and an activation code goes to the holder's own phone — with it the holder sets
    a new password. The operator learns where the code went, never the code."""
    if not access.can_manage_account(actor, user):
        raise Forbidden("您无权重置该账号的密码。")
    if user.pk == actor.pk:
        raise Forbidden("请通过「修改密码」修改自己的密码。")
    user.set_unusable_password()
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    end_sessions(user)
    record_event(
        action="account.password_reset",
        actor=actor,
        target=user,
        unit=access.home_unit(user) or access.home_unit(actor),
    )
    return send_activation_code(user=user, purpose=ActivationPurpose.PASSWORD_RESET, actor=actor)


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
    end_sessions(user)
    record_event(
        action="auth.password_changed", actor=user, target=user, unit=access.home_unit(user)
    )
    return user
