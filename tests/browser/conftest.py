"""Browser fixtures: one Playwright and one headless Chromium per test session, a fresh context
(cookies, storage) per test, a login helper that goes through the real form, and screenshots
at phone and desktop size into test-artifacts/screenshots/ (git-ignored).

Playwright cannot download its own browsers here, so Debian's Chromium is launched instead.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from hongfeng.core import demo
from tests.conftest import skip_unless_ci
from tests.support.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"

TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser drives a real browser: mark it so `-m "not browser"`
    skips them all."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Playwright:
    if not Path(CHROMIUM).exists():
        skip_unless_ci(f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        yield p


def _launch(playwright) -> Browser:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    if os.environ.get("HONGFENG_TEST_NOW"):
        _share_the_suites_clock(browser)
    return browser


def _share_the_suites_clock(browser: Browser) -> None:
    """When the suite runs at another date (HONGFENG_TEST_NOW, tests/conftest.py), every page's
    clock starts at the server's: a phone that disagreed by months would have its check-ins
    flagged for clock skew. The clock keeps running, timers work as usual."""
    from django.utils import timezone

    open_context = browser.new_context

    def new_context(**options):
        context = open_context(**options)
        context.clock.set_system_time(timezone.now())
        return context

    browser.new_context = new_context


@pytest.fixture(scope="session")
def browser(playwright) -> Browser:
    browser = _launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def fresh_browser(playwright) -> Browser:
    """A browser of the test's own, for what Chromium remembers across contexts (favicons)."""
    browser = _launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser):
    """`new_page(phone=True)` → a page in its own fresh context (desktop size by default)."""
    contexts = []

    def make(*, phone: bool = False) -> Page:
        if phone:
            context = browser.new_context(
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
                locale="zh-CN",
            )
        else:
            context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A desktop-size page in a fresh context."""
    return new_page()


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console errors and uncaught exceptions on `page` (CSP violations land here)."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"console on {page.url}: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror on {page.url}: {exc}"))
    return errors


@pytest.fixture
def login(live_server):
    """`login(page, "captain")` → signs the cast member in through the real login form."""

    def sign_in(page: Page, key: str, password: str = demo.DEMO_PASSWORD) -> None:
        account = next(a for a in demo.ACCOUNTS if a.key == key)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("手机号", exact=True).fill(account.mobile)
        page.get_by_label("密码", exact=True).fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()

    return sign_in


@pytest.fixture
def screenshot(request):
    """`screenshot(page, "home")` → full-page PNGs at phone and desktop size, named after the
    test; the page is left at the size it had before."""

    def shoot(page: Page, name: str) -> list[Path]:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        test = re.sub(r"[^\w-]+", "_", request.node.name)
        original = page.viewport_size
        paths = []
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            path = SCREENSHOT_DIR / f"{test}-{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        if original:
            page.set_viewport_size(original)
        return paths

    return shoot
