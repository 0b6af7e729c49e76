"""Shared fixtures: the named cast (the demo tower and one account per role, built once per test
session through the real services), API clients per cast member, and fast password hashing."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from hongfeng.accounts.services import issue_api_token
from hongfeng.core import demo

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still work.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def skip_unless_ci(reason: str):
    """Skip a test whose system dependency (Chromium, Redis…) is missing on a developer's
    machine; under CI=true the same absence fails the run, so the gate never passes by
    silently testing less."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: a missing dependency fails the run)", pytrace=False)
    pytest.skip(reason)


def _travel_from_environment():
    """HONGFENG_TEST_NOW=2027-01-01T00:00 runs the whole suite as if it started then (local time,
    Asia/Shanghai; the clock keeps ticking). The suite must pass on any day of the year: hunt
    date dependence with month, quarter and year ends and the Chinese holidays."""
    value = os.environ.get("HONGFENG_TEST_NOW")
    if not value:
        return
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    time_machine.travel(moment, tick=True).start()


def pytest_configure(config):
    _travel_from_environment()
    # Argon2 is what production uses (tests/accounts/test_passwords.py proves it); the suite
    # itself logs people in hundreds of times, so it hashes with a fast algorithm.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Background tasks run inline in tests (the worker is exercised by its own test).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Build the cast once; every `db` test runs inside a transaction rolled back afterwards."""
    with django_db_blocker.unblock():
        demo.build()


@pytest.fixture
def cast(db) -> demo.Cast:
    return demo.load()


@pytest.fixture
def live_cast(transactional_db) -> demo.Cast:
    """The cast for transactional tests (live server, concurrency): the database is flushed
    after each of them, so it is built again when missing."""
    if demo.is_empty():
        demo.build()
    return demo.load()


class ApiClient:
    """A JSON client for /api/v1 authenticated with a real bearer token."""

    def __init__(self, user=None):
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {issue_api_token(user=user).token}"
        self.client = Client(headers=headers)

    def get(self, path, params=None):
        return self.client.get(f"/api/v1{path}", params or {})

    def post(self, path, data=None, headers=None):
        return self.client.post(
            f"/api/v1{path}",
            data if data is not None else {},
            content_type="application/json",
            headers=headers or {},
        )

    def put(self, path, data):
        return self.client.put(f"/api/v1{path}", data, content_type="application/json")

    def patch(self, path, data):
        return self.client.patch(f"/api/v1{path}", data, content_type="application/json")

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}")


@pytest.fixture
def api_as(cast):
    """`api_as("captain")` → an ApiClient for that cast member."""
    return lambda key: ApiClient(cast.users[key])


@pytest.fixture
def anon_api(db):
    return ApiClient()


@pytest.fixture
def page_as(cast, client):
    """`page_as("captain")` → a Django test client logged in as that cast member."""

    def login(key):
        client.force_login(cast.users[key])
        return client

    return login


@pytest.fixture
def sms(settings):
    """Text messages go to `MemoryChannel.outbox` ([(mobile, text)]) instead of the log. Sends
    happen after the commit: wrap the call in `django_capture_on_commit_callbacks(execute=True)`
    (then `code_in(outbox, mobile)` reads the code)."""
    from hongfeng.notices.channels import MemoryChannel

    settings.NOTICE_BACKENDS = {
        **settings.NOTICE_BACKENDS,
        "sms": "hongfeng.notices.channels.MemoryChannel",
    }
    MemoryChannel.outbox.clear()
    yield MemoryChannel.outbox
    MemoryChannel.outbox.clear()


def code_in(outbox, mobile: str) -> str:
    """The activation code in the last text message sent to `mobile`."""
    import re

    texts = [text for to, text in outbox if to == mobile]
    assert texts, f"no text message to {mobile[:3]}…"
    return re.search(r"激活码：(\d{8})", texts[-1]).group(1)
