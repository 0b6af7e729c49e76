"""Login throttling shared by every way in: the login page, the API token endpoint and account
activation (security.md T7; docs/security.md explains the numbers and why).

Three guards, all counted in `LoginThrottle` rows:

- **per account and source**: `LOCKOUT_FAILURES` failures in a row from one source lock that
  source out of that account for `LOCKOUT_PERIOD` — a stranger who guesses at someone's number
  locks only himself out, the holder logging in from elsewhere is not affected;
- **per account** (the 等保 lockout): once the account's consecutive failures reach the limit
  *and* came from at least `LOCKOUT_SOURCES` distinct sources, the account is locked for
  everyone (the right password is refused) until the period runs out or a 安全管理员 unlocks it;
- **per source and global**: a source may fail `LOGIN_SOURCE_FREE_FAILURES` times in
  `LOGIN_THROTTLE_WINDOW` on any accounts; then it waits 1 s, 2 s, 4 s … (at most
  `LOGIN_MAX_DELAY`) after each failure — one source cannot try number after number. Once the
  platform as a whole saw `LOGIN_GLOBAL_FREE_FAILURES` failures in the window (a botnet spreading
  its guesses thin), every failing source waits from its first failure; sources that do not
  fail are never slowed down.

A refused attempt (locked, or waiting) checks no password and is not counted again.
"""

import ipaddress
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, Value, When
from django.utils import timezone

from hongfeng.accounts.models import LoginThrottle
from hongfeng.core import context
from hongfeng.core.errors import DomainError

UNKNOWN_SOURCE = "-"  # work outside a request (a command, a test calling a service)


class TooManyAttempts(DomainError):
    """429: try again later; `retry_after` (seconds) goes into the JSON body and the
    Retry-After header."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retry_after": self.retry_after}


class LockedOut(TooManyAttempts):
    code = "locked_out"


class Throttled(TooManyAttempts):
    code = "throttled"


def source_of(ip: str | None) -> str:
    """The source an attempt is counted against: the client address (as `client_ip` derives it,
    honouring HONGFENG_BEHIND_PROXY). An IPv6 client counts by its /64 — one subscriber gets a
    whole /64 and could otherwise step to a fresh address for every guess."""
    if not ip:
        return UNKNOWN_SOURCE
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN_SOURCE
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def current_source() -> str:
    return source_of(context.current().ip)


def wait_text(seconds: int) -> str:
    """「30 秒」, 「5 分钟」: how long to wait, for people."""
    if seconds < 60:
        return f"{max(1, seconds)} 秒"
    return f"{math.ceil(seconds / 60)} 分钟"


def _seconds_until(until: datetime, now: datetime) -> int:
    return math.ceil((until - now).total_seconds())


def _locked_out(until: datetime, now: datetime, *, everywhere: bool) -> LockedOut:
    local = timezone.localtime(until)
    if everywhere:
        message = (
            f"该账号在多处连续登录失败，已锁定至 {local:%H:%M}，请稍后再试，或联系安全管理员解锁。"
        )
    else:
        message = (
            f"连续登录失败次数过多，该账号在当前网络已锁定至 {local:%H:%M}，"
            "请稍后再试，或联系安全管理员解锁。"
        )
    return LockedOut(message, retry_after=_seconds_until(until, now))


# --- the source as a whole ----------------------------------------------------------------


def source_refusal(source: str, now: datetime) -> Throttled | None:
    """The source must still wait after its last failure: refuse before checking anything."""
    row = LoginThrottle.objects.filter(mobile="", source=source).only("locked_until").first()
    if row is None or not row.is_locked(now):
        return None
    seconds = _seconds_until(row.locked_until, now)
    return Throttled(f"尝试过于频繁，请 {wait_text(seconds)}后再试。", retry_after=seconds)


def _count_global(now: datetime) -> int:
    """One more failure platform-wide; the count in the current window. An UPDATE with no
    lock held beforehand: the row is locked only from here to the commit, after the password
    check, so failures elsewhere queue for microseconds, never for a hash."""
    window_start = now - settings.LOGIN_THROTTLE_WINDOW
    LoginThrottle.objects.get_or_create(mobile="", source="")
    in_window = When(first_failure_at__gte=window_start, then=F("failures") + 1)
    LoginThrottle.objects.filter(mobile="", source="").update(
        failures=Case(in_window, default=Value(1)),
        first_failure_at=Case(
            When(first_failure_at__gte=window_start, then=F("first_failure_at")),
            default=Value(now),
        ),
        last_failure_at=now,
    )
    return LoginThrottle.objects.get(mobile="", source="").failures


def count_source_failure(source: str, now: datetime) -> None:
    """One more failure from `source` (on any account, or a wrong activation code): past the
    free allowance the source waits, twice as long after each further failure."""
    busy = _count_global(now) > settings.LOGIN_GLOBAL_FREE_FAILURES
    free = 0 if busy else settings.LOGIN_SOURCE_FREE_FAILURES
    LoginThrottle.objects.get_or_create(mobile="", source=source)
    row = LoginThrottle.objects.select_for_update().get(mobile="", source=source)
    if row.last_failure_at is None or now - row.last_failure_at > settings.LOGIN_THROTTLE_WINDOW:
        row.failures = 0  # quiet for a whole window: start afresh
        row.first_failure_at = now
    row.failures += 1
    row.last_failure_at = now
    excess = row.failures - free
    if excess > 0:
        delay = timedelta(seconds=2 ** min(excess - 1, 20))
        row.locked_until = now + min(delay, settings.LOGIN_MAX_DELAY)
    row.save()


# --- one account --------------------------------------------------------------------------


class AccountRows:
    """The account's row (locked FOR UPDATE: attempts on one account are decided one after
    another, so a burst cannot try more than the limit) and its row for this source."""

    def __init__(self, mobile: str, source: str):
        self.mobile = mobile
        self.source = source
        LoginThrottle.objects.get_or_create(mobile=mobile, source="")
        self.account = LoginThrottle.objects.select_for_update().get(mobile=mobile, source="")
        # Guarded by the account row's lock; created only on a first failure.
        self.here = LoginThrottle.objects.filter(mobile=mobile, source=source).first()

    def refusal(self, now: datetime) -> LockedOut | None:
        if self.account.is_locked(now):
            return _locked_out(self.account.locked_until, now, everywhere=True)
        if self.here is not None and self.here.is_locked(now):
            return _locked_out(self.here.locked_until, now, everywhere=False)
        return None

    def succeeded(self) -> None:
        """A success ends the account's run of failures and this source's."""
        ids = [r.pk for r in (self.account, self.here) if r is not None and r.failures]
        if ids:
            LoginThrottle.objects.filter(pk__in=ids).update(
                failures=0, first_failure_at=None, locked_until=None
            )

    def failed(self, now: datetime) -> LockedOut | None:
        """Count a failure; the lock it caused, if any (the account-wide one wins)."""
        if self.here is None:
            self.here = LoginThrottle.objects.create(mobile=self.mobile, source=self.source)
        for row in (self.account, self.here):
            if row.locked_until is not None and row.locked_until <= now:
                row.failures = 0  # the previous lock has run out: count afresh
                row.locked_until = None
            if row.failures == 0:
                row.first_failure_at = now
            row.failures += 1
            row.last_failure_at = now
        self.here.save()
        outcome = None
        if self.here.failures >= settings.LOCKOUT_FAILURES:
            self.here.locked_until = now + settings.LOCKOUT_PERIOD
            self.here.save(update_fields=["locked_until"])
            outcome = _locked_out(self.here.locked_until, now, everywhere=False)
        if (
            self.account.failures >= settings.LOCKOUT_FAILURES
            and self._sources_failing() >= settings.LOCKOUT_SOURCES
        ):
            self.account.locked_until = now + settings.LOCKOUT_PERIOD
            outcome = _locked_out(self.account.locked_until, now, everywhere=True)
        self.account.save()
        count_source_failure(self.source, now)
        return outcome

    def _sources_failing(self) -> int:
        """Distinct sources with a failure in the account's current run of failures."""
        return (
            LoginThrottle.objects.filter(
                mobile=self.mobile, last_failure_at__gte=self.account.first_failure_at
            )
            .exclude(source="")
            .count()
        )


def clear_account(mobile: str) -> int:
    """Forget the account's failures and lift its locks, its own and every source's (a
    安全管理员's unlock, a successful activation). The number of rows that had any."""
    rows = LoginThrottle.objects.filter(mobile=mobile).exclude(mobile="").exclude(failures=0)
    return rows.update(failures=0, first_failure_at=None, locked_until=None)
