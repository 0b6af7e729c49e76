"""Password login, throttled, and the end of a session (security.md T7).

Every password login (the login page, the token endpoint, anything calling `authenticate`) goes
through `authenticate_mobile`, so the throttles (`throttling`) and their audit trail cannot be
bypassed; the other way in, activation with a code sent to the holder's phone (`activation`),
shares the same throttles.
"""

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access, throttling
from hongfeng.accounts.models import User, normalize_mobile
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError, Forbidden
from hongfeng.core.masking import mask_mobile

LockedOut = throttling.LockedOut
Throttled = throttling.Throttled


class LoginFailed(DomainError):
    status = 401
    code = "invalid_credentials"

    def __init__(self, message: str = "手机号或密码不正确。", **kwargs):
        super().__init__(message, **kwargs)


def authenticate_mobile(*, mobile: str, password: str) -> User:
    """Check a mobile number and password, throttled (`throttling`: per account and source,
    per account for everyone after failures from several sources, per source and globally with
    progressive delays). A refused attempt checks no password. Every attempt is audited.
    Returns the user or raises LoginFailed / LockedOut / Throttled."""
    mobile = normalize_mobile(mobile)
    source = throttling.current_source()
    now = timezone.now()
    waiting = throttling.source_refusal(source, now)
    if waiting is not None:
        with transaction.atomic():
            _audit_failure(mobile, User.objects.filter(mobile=mobile).first(), {"waiting": True})
        raise waiting
    if not mobile or len(mobile) != 11 or not mobile.isdigit():
        with transaction.atomic():
            throttling.count_source_failure(source, now)
        raise LoginFailed()
    with transaction.atomic():
        outcome = _attempt(mobile, password, source, now)
    if isinstance(outcome, DomainError):
        raise outcome  # raised after the commit, so the counted failure is kept
    return outcome


def _attempt(mobile: str, password: str, source: str, now) -> User | DomainError:
    rows = throttling.AccountRows(mobile, source)
    user = User.objects.filter(mobile=mobile).first()
    refusal = rows.refusal(now)
    if refusal is not None:
        _audit_failure(mobile, user, {"locked": True, "failures": rows.account.failures})
        return refusal
    if user is None:
        User().set_password(password)  # same work as a real check: no timing oracle
        password_ok = False
    else:
        password_ok = user.check_password(password)
    if password_ok and user.is_active:
        rows.succeeded()
        record_event(action="auth.login", actor=user, target=user, unit=access.home_unit(user))
        return user
    if password_ok:
        # Only the holder of the right password learns that the account is disabled.
        _audit_failure(mobile, user, {"disabled": True})
        return LoginFailed("该账号已停用，请联系管理员。", code="account_disabled")
    locked = rows.failed(now)
    _audit_failure(mobile, user, {"failures": rows.account.failures})
    if locked is None:
        return LoginFailed()
    everywhere = rows.account.is_locked(now)
    until = rows.account.locked_until if everywhere else rows.here.locked_until
    _audit_failure(
        mobile,
        user,
        {
            "until": until.isoformat(),
            "failures": rows.account.failures,
            "scope": "account" if everywhere else "source",
        },
        action="auth.locked_out",
    )
    return locked


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
    """A 安全管理员 lifts a lockout early: the account's own and every source's."""
    if not access.can_unlock(actor, user):
        raise Forbidden("您无权解除该账号的锁定。")
    if throttling.clear_account(user.mobile):
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
