"""Account activation: the holder sets their own password with a one-time code sent to their
own phone (issue 15, 2.2; security.md).

Nobody but the holder ever sees a working credential: an operator who opens an account (a role
grant to a new number) or resets one learns only that a code went to 138****5678 and until
when. Accounts opened without a password (实名登记, roster imports) and reset ones are activated
the same way; their holder asks for a code on the 激活账号 page.

A code is 8 random digits, stored only as a keyed HMAC (a database dump does not give it away),
valid for `ACTIVATION_CODE_TTL`, once, and spent after `ACTIVATION_MAX_ATTEMPTS` wrong tries;
a newer code replaces the older. Wrong codes also count against the source's login throttle
(`throttling`), so one source cannot try codes for number after number. Issuing, using, a wrong
try and a spent code are all audited.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from hongfeng.accounts import access, throttling
from hongfeng.accounts.models import ActivationCode, ActivationPurpose, User, normalize_mobile
from hongfeng.accounts.passwords import check_password_rules
from hongfeng.accounts.sessions import end_sessions
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.core.masking import mask_mobile
from hongfeng.notices.services import send_secret

CODE_DIGITS = 8
NOTICE_KIND = "account.activation"
WRONG_CODE = "激活码不正确或已失效。多次输错后激活码作废，请重新获取。"
REQUESTED = (
    "如果该手机号已登记且尚未设置密码，激活码已通过短信发送到该手机，请查收；"
    "没有收到可在一分钟后重新获取。"
)


@dataclass(frozen=True)
class ActivationSent:
    """What an operator (and the API) is told about a code: where it went, masked, and until
    when. Never the code."""

    mobile_masked: str
    expires_at: datetime

    @property
    def text(self) -> str:
        local = timezone.localtime(self.expires_at)
        return (
            f"激活码已通过短信发送至 {self.mobile_masked}，{local:%m月%d日 %H:%M} 前有效。"
            "请提醒本人在登录页点击「激活账号」，用激活码设置自己的密码。"
        )


def _digest(user_id: int, code: str) -> str:
    # Keyed with SECRET_KEY: 10^8 codes are few enough to try offline against a plain hash.
    keyed = salted_hmac("hongfeng.accounts.activation", f"{user_id}:{code}", algorithm="sha256")
    return keyed.hexdigest()


def send_activation_code(*, user: User, purpose: str, actor: User | None = None) -> ActivationSent:
    """Issue a fresh code for `user` (replacing any open one) and send it to their own phone
    after the commit. Runs inside the caller's transaction; the caller has checked that
    `actor` may do this (or that the holder asked for it)."""
    now = timezone.now()
    ActivationCode.objects.filter(user=user, used_at__isnull=True, void_at__isnull=True).update(
        void_at=now
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    record = ActivationCode.objects.create(
        user=user,
        digest=_digest(user.pk, code),
        purpose=purpose,
        issued_by=actor,
        created_at=now,
        expires_at=now + settings.ACTIVATION_CODE_TTL,
    )
    local = timezone.localtime(record.expires_at)
    send_secret(
        recipient=user,
        kind=NOTICE_KIND,
        title="红枫义警账号激活码",
        body=(
            f"【红枫义警】您的账号激活码：{code}，{local:%m月%d日 %H:%M} 前有效。"
            "请在登录页点击「激活账号」设置密码。激活码只供本人使用，请勿告诉任何人（包括管理员）。"
        ),
        secret=code,
    )
    record_event(
        action="account.activation_sent",
        actor=actor,
        actor_label=None if actor is not None else user.name,
        target=user,
        unit=access.home_unit(user) or (access.home_unit(actor) if actor else None),
        summary={"purpose": purpose, "code": record.pk, "expires_at": record.expires_at},
    )
    return ActivationSent(user.masked_mobile, record.expires_at)


def _needs_activation(user: User | None) -> bool:
    return user is not None and user.is_active and not user.has_usable_password()


@transaction.atomic
def request_activation_code(*, mobile: str) -> str:
    """The holder asks for a code (the 激活账号 page). Sent only to an active account without a
    password (never activated, or reset), at most once per `ACTIVATION_RESEND_INTERVAL`; the
    answer is the same whatever the number, so it tells nobody whether it is registered. Every
    request counts against the source's throttle (no SMS bombing, no enumeration by volume)."""
    source = throttling.current_source()
    now = timezone.now()
    waiting = throttling.source_refusal(source, now)
    if waiting is not None:
        raise waiting
    mobile = normalize_mobile(mobile)
    if len(mobile) != 11 or not mobile.isdigit():
        raise DomainError("请输入正确的11位手机号码。", code="invalid_mobile", field="mobile")
    throttling.count_source_failure(source, now)
    user = User.objects.select_for_update().filter(mobile=mobile).first()
    recent = (
        user is not None
        and ActivationCode.objects.filter(
            user=user, created_at__gt=now - settings.ACTIVATION_RESEND_INTERVAL
        ).exists()
    )
    if _needs_activation(user) and not recent:
        send_activation_code(user=user, purpose=ActivationPurpose.REQUESTED)
    else:
        record_event(
            action="account.activation_requested",
            actor=None,
            actor_label=user.name if user is not None else mask_mobile(mobile),
            target=user,
            target_label=mask_mobile(mobile) if user is None else None,
            summary={"sent": False},
        )
    return REQUESTED


def activate_account(*, mobile: str, code: str, new_password: str) -> User:
    """The holder sets their password with the code. The password rules are checked first
    (their answer does not depend on the code, so it is no oracle); a wrong code is counted on
    the code and on the source; the right one sets the password, ends every session and token,
    lifts login locks (the holder has just proved they hold the phone) and is used up.
    Raises DomainError (`invalid_activation_code`, `weak_password`) or Throttled."""
    source = throttling.current_source()
    now = timezone.now()
    waiting = throttling.source_refusal(source, now)
    if waiting is not None:
        raise waiting
    mobile = normalize_mobile(mobile)
    code = (code or "").strip()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(mobile=mobile).first() if mobile else None
        check_password_rules(new_password, user or User(mobile=mobile), field="new_password")
        outcome = _use_code(user, mobile, code, source, now)
        if isinstance(outcome, DomainError):
            failure = outcome
        else:
            user.set_password(new_password)
            user.must_change_password = False
            user.save(update_fields=["password", "must_change_password"])
            end_sessions(user)
            throttling.clear_account(user.mobile)
            record_event(
                action="account.activated", actor=user, target=user, unit=access.home_unit(user)
            )
            return user
    raise failure  # after the commit: the counted failure is kept


def _use_code(user: User | None, mobile: str, code: str, source: str, now) -> object:
    """The open code if `code` matches it (marked used), else the error to raise (the wrong
    try counted on the code and on the source, and audited)."""
    record = None
    if _needs_activation(user):
        record = (
            ActivationCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, void_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
    if (
        record is not None
        and code.isdigit()
        and constant_time_compare(record.digest, _digest(user.pk, code))
    ):
        ActivationCode.objects.filter(pk=record.pk).update(used_at=now)
        return record
    spent = False
    if record is not None:
        record.attempts += 1
        spent = record.attempts >= settings.ACTIVATION_MAX_ATTEMPTS
        record.void_at = now if spent else None
        record.save(update_fields=["attempts", "void_at"])
    throttling.count_source_failure(source, now)
    record_event(
        action="account.activation_failed",
        actor=None,
        actor_label=user.name if user is not None else mask_mobile(mobile),
        target=user,
        target_label=mask_mobile(mobile) if user is None else None,
        unit=access.home_unit(user) if user is not None else None,
        summary={"code": record.pk if record else None, "spent": spent},
    )
    return DomainError(WRONG_CODE, code="invalid_activation_code", field="code")
