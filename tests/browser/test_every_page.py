"""Every page, as every demo role sees it in Chromium, phone first (issue 15, item 5; ui.md).

Each demo account (and an anonymous visitor) signs in once; the pages in its navigation (the
sidebar and the phone's bottom bar) are opened, then the detail pages they link to (a member
file, an activity and its organiser console, a unit, an account, …) — one page per URL shape —
at 390×844 (a phone) and 1366×768. A detail page already opened for an account of the same
role group is not opened again for the next (another county's admin sees the same template).
On every page:

- the page does not scroll sideways (`scrollWidth > innerWidth`) and no control sits off screen;
- no text wraps one character per line (measured per character with Range rects);
- every label names a field that exists (a label for="" cannot be clicked);
- badges are readable (text against the badge's own colour at least 4.5:1);
- no raw code or English shows (snake_case tokens, Latin words outside a short allow-list);
- the browser logs no console error, and the page answers 200.

Screenshots land in test-artifacts/screens/<role>/<page>-<width>.png: they are the review.
"""

import base64
import re
import shutil
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from hongfeng.accounts.models import Role
from hongfeng.activities.models import AttendanceNotice
from hongfeng.core import demo
from hongfeng.honours.models import Certificate
from hongfeng.points.models import RatingRun
from tests.support.paths import ROOT

pytestmark = pytest.mark.browser

SCREENS = ROOT / "test-artifacts" / "screens"
CHECKS_JS = (Path(__file__).parent / "page_checks.js").read_text(encoding="utf-8")
VIEWPORTS = {
    390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    1366: {"viewport": {"width": 1366, "height": 768}},
}
# Links that are files or leave the site's pages.
NOT_A_PAGE = re.compile(r"\.(pdf|xlsx|jpg|png|svg|csv)$|^/api/|^/admin/|^/logout/")
# Path segments that are record ids (numbers, UUIDs, serials): one page per URL shape.
ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f-]{32,36}|HF[0-9A-Z]+)$")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
# Latin words; record numbers that mix letters and digits (HF2026…, policy YW2026…) and web
# addresses (the link to share for applying) are not words and are left out first.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = re.compile(
    r"https?://\S+|[\w.-]+:\d+/\S*|[\w-]+\.[\w.-]+/\S*"  # web addresses
    r"|\b(?=[A-Za-z]*\d)[A-Za-z0-9]{4,}\b"  # record numbers
)
# Latin that Chinese offices write as such; everything else is an untranslated label or a code.
ALLOWED_LATIN = {"PDF", "Excel", "xlsx", "API", "QR", "GPS", "ID", "IP"}
ALLOWED_LATIN |= {"JPEG", "PNG", "WebP", "MB"}  # what a photo upload accepts
ALLOWED_LATIN |= {"zs"}  # the member search's example of pinyin initials (张三)


def _shape(url: str) -> str:
    """/members/12/?page=2 → /members/{id}/; a tab (?tab=manage) is a page of its own."""
    parts = urlsplit(url)
    shape = "/".join("{id}" if ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    tab = parse_qs(parts.query).get("tab")
    return f"{shape}?tab={tab[0]}" if tab else shape


def _slug(path: str) -> str:
    slug = re.sub(r"[^\w]+", "-", _shape(path).replace("{id}", "id")).strip("-")
    return slug or "home"


def _latin_problems(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        words = set(SNAKE_CASE.findall(text)) | {
            w for w in LATIN_WORD.findall(NOT_WORDS.sub(" ", text)) if w not in ALLOWED_LATIN
        }
        if words:
            found.append(f"{sorted(words)} in 「{text[:40]}」")
    return found


class Visitor:
    """One browser context per viewport; one role at a time (cookies swapped, not re-typed)."""

    def __init__(self, browser, base_url: str):
        self.base = base_url
        self.contexts = {}
        self.pages = {}
        self.errors: list[str] = []
        self.cdp = {}
        for width, options in VIEWPORTS.items():
            context = browser.new_context(locale="zh-CN", **options)
            context.set_default_timeout(15_000)
            page = context.new_page()
            self.cdp[page] = context.new_cdp_session(page)
            page.on("console", self._console(page))
            page.on("pageerror", lambda exc, p=page: self.errors.append(f"{p.url}: {exc}"))
            self.contexts[width], self.pages[width] = context, page

    def _console(self, page):
        def on_console(msg):
            if msg.type == "error":
                self.errors.append(f"{page.url}: {msg.text}")

        return on_console

    def sign_in(self, account: demo.DemoAccount | None) -> None:
        for context in self.contexts.values():
            context.clear_cookies()
        if account is None:
            return
        page = self.pages[390]
        page.goto(f"{self.base}/login/")
        page.get_by_label("手机号", exact=True).fill(account.mobile)
        page.get_by_label("密码", exact=True).fill(demo.DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        self.contexts[1366].add_cookies(self.contexts[390].cookies())

    def links(self, selector: str) -> list[str]:
        hrefs = self.pages[390].eval_on_selector_all(
            selector, "els => els.map(a => a.getAttribute('href'))"
        )
        paths = []
        for href in hrefs:
            parts = urlsplit(href or "")
            if parts.netloc or not parts.path.startswith("/") or NOT_A_PAGE.search(parts.path):
                continue
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return paths

    def check(self, role: str, path: str, width: int) -> list[str]:
        page = self.pages[width]
        self.errors.clear()
        response = page.goto(f"{self.base}{path}")
        problems = []
        if response is None or response.status != 200:
            problems.append(f"answers {response.status if response else 'nothing'}")
        found = page.evaluate(CHECKS_JS)
        problems += [f"overflow: {p}" for p in found["overflow"]]
        problems += [f"off screen: {p}" for p in found["offscreen"]]
        problems += [f"label names no field: {p}" for p in found["labels"]]
        problems += [f"badge contrast: {p}" for p in found["contrast"]]
        problems += [f"one character per line: {p}" for p in found["stacked"]]
        problems += [f"English or code: {p}" for p in _latin_problems(found["texts"])]
        problems += [f"console: {e}" for e in self.errors]
        self.shoot(page, SCREENS / role / f"{_slug(path)}-{width}.png")
        return problems

    def shoot(self, page, target: Path) -> None:
        """A full-page PNG through Chromium's own call with its fast encoder: about half the
        time of Playwright's full_page screenshot, and this is the suite's longest test."""
        target.parent.mkdir(parents=True, exist_ok=True)
        width, height = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        shot = self.cdp[page].send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        target.write_bytes(base64.b64decode(shot["data"]))

    def close(self):
        for context in self.contexts.values():
            context.close()


def _public_pages() -> list[str]:
    """What anyone can open without an account: login, applying, the public notices."""
    paths = ["/login/", reverse("apply:choose"), reverse("apply:status"), reverse("apply:privacy")]
    notice = AttendanceNotice.objects.order_by("-id").first()
    if notice is not None:
        paths.append(reverse("public:attendance", args=[notice.public_id]))
    run = RatingRun.objects.filter(published=True).order_by("-id").first()
    if run is not None:
        paths.append(reverse("public:rating", args=[run.pk]))
    certificate = Certificate.objects.filter(revoked_at__isnull=True).first()
    if certificate is not None:
        paths.append(f"/verify/{certificate.serial}/?h={certificate.mac}")
    return paths


def _tour(visitor: Visitor, who: str, nav: list[str], seen: set[str]) -> dict[str, list[str]]:
    """Open the account's navigation, then one page of each URL shape it links to (and those
    link to). `seen` holds the shapes opened for accounts of the same role group: a second
    association admin or a squad leader opens their own navigation, but not the same detail
    templates again (other scope, same page: it costs time and finds nothing new)."""
    problems: dict[str, list[str]] = defaultdict(list)
    queue = list(nav)
    seen.update(_shape(path) for path in nav)
    while queue:
        path = queue.pop(0)
        for width in VIEWPORTS:
            for problem in visitor.check(who, path, width):
                problems[f"{who} {path} @{width}"].append(problem)
        for link in visitor.links("main a[href]"):
            shape = _shape(link)
            if shape not in seen:
                seen.add(shape)
                queue.append(link)
    return problems


# Roles that see the same detail templates (a team's leaders; police at any level). Of the
# accounts of one group, the demo's own (红枫义警总队, 诸暨) come first and open the detail
# pages; the others (other captains and admins, squad and group leaders) their navigation.
SAME_PAGES = {
    Role.SQUAD_LEADER: Role.CAPTAIN,
    Role.GROUP_LEADER: Role.CAPTAIN,
    Role.STATION_OFFICER: Role.BUREAU_OFFICER,
}
ROLE_ORDER = ["captain", "county_admin", "station_officer"]


def test_every_page_for_every_role(browser, live_server, live_cast):
    shutil.rmtree(SCREENS, ignore_errors=True)  # this run's screenshots only
    visitor = Visitor(browser, live_server.url)
    problems: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = defaultdict(set)  # role group → URL shapes opened
    accounts = sorted(
        demo.ACCOUNTS, key=lambda a: ROLE_ORDER.index(a.key) if a.key in ROLE_ORDER else 99
    )
    try:
        visitor.sign_in(None)
        problems |= _tour(visitor, "anonymous", _public_pages(), seen["anonymous"])
        for account in accounts:
            visitor.sign_in(account)
            visitor.pages[390].goto(f"{live_server.url}/")
            links = visitor.links("aside a.nav-link, nav.hf-bottom-nav a")
            nav = list(dict.fromkeys(["/", *links]))
            group = SAME_PAGES.get(account.role, account.role)
            problems |= _tour(visitor, account.key, nav, seen[group])
    finally:
        visitor.close()
    report = "\n".join(f"{page}\n    " + "\n    ".join(found) for page, found in problems.items())
    SCREENS.mkdir(parents=True, exist_ok=True)
    (SCREENS / "problems.txt").write_text(report or "none\n", encoding="utf-8")
    assert not problems, f"{len(problems)} pages with problems:\n{report}"
