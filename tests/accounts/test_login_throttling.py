"""Login throttling (issue 15, 2.3; security.md T7): a stranger cannot lock a holder out, one
source cannot try number after number, a botnet spreading thin is slowed down too — on the
login page, the token endpoint and the activation endpoint alike. Time is frozen for every
window."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from hongfeng.accounts import throttling
from hongfeng.accounts.models import LoginThrottle
from hongfeng.audit.models import AuditEvent
from hongfeng.core.demo import DEMO_PASSWORD

CAPTAIN = "13900000030"
WRONG = "wrong-password"


def _client(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def _token(ip: str, mobile: str = CAPTAIN, password: str = WRONG):
    return _client(ip).post(
        "/api/v1/auth/token",
        {"mobile": mobile, "password": password},
        content_type="application/json",
    )


def _page(ip: str, mobile: str = CAPTAIN, password: str = WRONG):
    return _client(ip).post("/login/", {"mobile": mobile, "password": password})


@pytest.fixture
def clock(cast):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


class TestStrangerCannotLockOutTheHolder:
    def test_failures_lock_only_the_failing_source(self, clock):
        for _ in range(4):
            assert _token("203.0.113.7").status_code == 401
        locked = _token("203.0.113.7")
        assert locked.status_code == 429
        body = locked.json()
        assert body["code"] == "locked_out" and "当前网络已锁定" in body["message"]
        assert body["retry_after"] == 15 * 60 and locked["Retry-After"] == "900"
        # the stranger's source is refused even with the right password …
        assert _token("203.0.113.7", password=DEMO_PASSWORD).status_code == 429
        # … while the holder, elsewhere, logs in on the page and through the API
        assert _page("198.51.100.20", password=DEMO_PASSWORD).status_code == 302
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201
        event = AuditEvent.objects.filter(action="auth.locked_out").get()
        assert event.summary["scope"] == "source"
        clock.shift(timedelta(minutes=15, seconds=1))
        assert _token("203.0.113.7", password=DEMO_PASSWORD).status_code == 201

    def test_failures_from_several_sources_lock_the_account_for_everyone(self, clock):
        """The 等保 lockout stays: five failures in a row from three distinct sources lock the
        account — the right password is refused from anywhere until the period runs out."""
        for ip, count in (("203.0.113.1", 2), ("203.0.113.2", 2)):
            for _ in range(count):
                assert _token(ip).status_code == 401
        locked = _page("203.0.113.3")
        assert locked.status_code == 429
        assert "该账号在多处连续登录失败，已锁定至" in locked.content.decode()
        refused = _token("198.51.100.20", password=DEMO_PASSWORD)
        assert refused.status_code == 429 and refused.json()["code"] == "locked_out"
        event = AuditEvent.objects.filter(action="auth.locked_out").get()
        assert event.summary["scope"] == "account"
        clock.shift(timedelta(minutes=14, seconds=59))
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=2))
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201

    def test_two_sources_are_not_enough(self, clock, settings):
        assert settings.LOCKOUT_SOURCES == 3
        for _ in range(5):
            _token("203.0.113.1")
        for _ in range(5):
            _token("203.0.113.2")
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201

    def test_a_success_ends_the_run_of_failures(self, clock):
        """Sources counted for the account lock are those that failed since the holder's last
        success: two sources fail, the holder logs in, then five failures from two sources
        (one of them seen before) do not lock the account."""
        for ip in ("203.0.113.1", "203.0.113.2"):
            _token(ip)
            _token(ip)
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201
        clock.shift(timedelta(seconds=1))
        for _ in range(4):
            assert _token("203.0.113.3").status_code == 401
        assert _token("203.0.113.1").status_code == 401
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201

    def test_unlock_lifts_source_locks_too(self, cast, clock):
        from hongfeng.accounts.login import unlock_login

        for _ in range(5):
            _token("203.0.113.7")
        unlock_login(actor=cast.users["security_admin"], user=cast.users["captain"])
        assert _token("203.0.113.7", password=DEMO_PASSWORD).status_code == 201


class TestSourceThrottle:
    def test_progressive_delays_after_the_free_failures(self, clock, settings):
        """One source trying number after number: ten free failures, then 1 s, 2 s, 4 s …"""
        assert settings.LOGIN_SOURCE_FREE_FAILURES == 10
        for n in range(10):
            assert _token("203.0.113.9", mobile=f"1361111{n:04d}").status_code == 401
        assert _token("203.0.113.9", mobile="13611119999").status_code == 401  # 11th: 1 s
        waiting = _token("203.0.113.9", mobile="13611118888", password="anything")
        assert waiting.status_code == 429
        assert waiting.json() == {
            "code": "throttled",
            "message": "尝试过于频繁，请 1 秒后再试。",
            "retry_after": 1,
        }
        # even the right password of another account is not checked while waiting
        assert _token("203.0.113.9", password=DEMO_PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=1))
        assert _token("203.0.113.9", mobile="13611117777").status_code == 401  # 12th: 2 s
        assert _token("203.0.113.9").json()["retry_after"] == 2
        clock.shift(timedelta(seconds=2))
        _token("203.0.113.9", mobile="13611116666")  # 13th: 4 s
        page = _page("203.0.113.9")
        assert page.status_code == 429
        assert "尝试过于频繁，请 4 秒后再试" in page.content.decode()
        # another source is not slowed down
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201

    def test_the_delay_is_capped_and_forgotten_after_a_quiet_window(self, clock, settings):
        settings.LOGIN_SOURCE_FREE_FAILURES = 0
        settings.LOGIN_MAX_DELAY = timedelta(seconds=30)
        for n in range(8):  # 1, 2, 4, 8, 16, 30, 30, 30
            assert _token("203.0.113.9", mobile=f"1361111{n:04d}").status_code == 401
            clock.shift(timedelta(seconds=30))
        row = LoginThrottle.objects.get(mobile="", source="203.0.113.9")
        assert row.failures == 8
        assert row.locked_until - row.last_failure_at == timedelta(seconds=30)  # capped
        clock.shift(settings.LOGIN_THROTTLE_WINDOW)
        assert _token("203.0.113.9", mobile="13611110000").status_code == 401
        row.refresh_from_db()
        assert row.failures == 1  # afresh

    def test_behind_a_proxy_the_source_is_the_address_it_appended(self, clock, settings):
        """HONGFENG_BEHIND_PROXY: the last X-Forwarded-For entry is the client; what the client
        wrote to the left of it changes nothing."""
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        proxy = Client(REMOTE_ADDR="10.0.0.2")
        for n in range(10):
            proxy.post(
                "/api/v1/auth/token",
                {"mobile": f"1361111{n:04d}", "password": "x"},
                content_type="application/json",
                headers={"X-Forwarded-For": f"192.0.2.{n}, 203.0.113.9"},
            )
        assert LoginThrottle.objects.get(mobile="", source="203.0.113.9").failures == 10
        assert not LoginThrottle.objects.filter(source="10.0.0.2").exists()
        holder = proxy.post(
            "/api/v1/auth/token",
            {"mobile": CAPTAIN, "password": DEMO_PASSWORD},
            content_type="application/json",
            headers={"X-Forwarded-For": "198.51.100.20"},
        )
        assert holder.status_code == 201

    @pytest.mark.parametrize(
        ("ip", "source"),
        [
            ("203.0.113.9", "203.0.113.9"),
            ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
            ("::ffff:203.0.113.9", "203.0.113.9"),
            ("", throttling.UNKNOWN_SOURCE),
            ("not-an-ip", throttling.UNKNOWN_SOURCE),
        ],
    )
    def test_sources(self, ip, source):
        assert throttling.source_of(ip) == source


class TestGlobalThrottle:
    def test_a_busy_platform_makes_every_failing_source_wait(self, clock, settings):
        """Past the global allowance a source waits from its first failure; a source that
        does not fail is never slowed down."""
        settings.LOGIN_GLOBAL_FREE_FAILURES = 3
        for n in range(4):
            assert _token(f"192.0.2.{n}", mobile=f"1361111{n:04d}").status_code == 401
        assert _token("203.0.113.50", mobile="13611115555").status_code == 401
        assert _token("203.0.113.50", password=DEMO_PASSWORD).json()["code"] == "throttled"
        assert _token("198.51.100.20", password=DEMO_PASSWORD).status_code == 201
        clock.shift(settings.LOGIN_THROTTLE_WINDOW + timedelta(seconds=2))
        assert _token("203.0.113.51", mobile="13611115555").status_code == 401
        assert _token("203.0.113.51", password=DEMO_PASSWORD).status_code == 201


class TestActivationIsThrottledToo:
    def test_wrong_codes_count_against_the_source(self, clock, settings):
        settings.LOGIN_SOURCE_FREE_FAILURES = 2
        client = _client("203.0.113.9")

        def activate(mobile):
            return client.post(
                "/api/v1/auth/activate",
                {"mobile": mobile, "code": "12345678", "new_password": "Mine#Own2026"},
                content_type="application/json",
            )

        assert activate("13611110001").status_code == 400
        assert activate("13611110002").status_code == 400
        assert activate("13611110003").status_code == 400  # third: wait 1 s
        waiting = activate("13611110004")
        assert waiting.status_code == 429 and waiting.json()["code"] == "throttled"
        # the same source's password logins wait as well: one throttle for every way in
        assert _token("203.0.113.9", password=DEMO_PASSWORD).status_code == 429
        page = client.post(
            "/activate/",
            {
                "mobile": "13611110005",
                "code": "12345678",
                "new_password": "Mine#Own2026",
                "new_password_again": "Mine#Own2026",
            },
        )
        assert page.status_code == 429 and "尝试过于频繁" in page.content.decode()

    def test_code_requests_count_too(self, clock, settings):
        settings.LOGIN_SOURCE_FREE_FAILURES = 1
        client = _client("203.0.113.9")

        def ask():
            return client.post(
                "/api/v1/auth/activation-code",
                {"mobile": "13611110001"},
                content_type="application/json",
            )

        assert ask().status_code == 202
        assert ask().status_code == 202  # second: wait 1 s
        assert ask().status_code == 429


def test_locked_accounts_are_counted_once(cast, clock, page_as):
    """The security admin's home counts locked numbers: a source's lock on an account counts,
    the source's own delay row (no number) does not, and a number counts once."""
    from hongfeng.accounts.selectors import account_detail, locked_account_count

    for _ in range(5):
        _token("203.0.113.9")
    for _ in range(2):
        _token("203.0.113.8")
    for n in range(6):
        _token("203.0.113.9", mobile=f"1361111{n:04d}")
    assert LoginThrottle.objects.filter(mobile="", source="203.0.113.9").get().locked_until
    assert locked_account_count() == 1
    captain = account_detail(cast.users["security_admin"], cast.users["captain"].pk)
    assert captain.locked_until is not None
    assert "锁定中的手机号" in page_as("security_admin").get("/").content.decode()
