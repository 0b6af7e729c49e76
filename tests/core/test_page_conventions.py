"""What every page shares (ui.md): lists that become cards on a phone, one highlighted
navigation entry and 我的 in every bottom bar, a Chinese blank choice in every select, no clause
numbers for volunteers and the public, and the security headers. What only a browser can see is
in tests/browser/test_every_page.py."""

import re
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import resolve

import hongfeng
from hongfeng.core import demo
from hongfeng.core.context_processors import navigation
from hongfeng.members.models import Member

CLAUSE = re.compile(r"（\d+\.\d+")


def _text(response) -> str:
    return response.content.decode()


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_every_list_table_becomes_cards_on_a_phone():
    """5.2: one shared pattern (table.hf-cards in app.css) on every list in the project."""
    for path in Path(hongfeng.__file__).parent.rglob("templates/**/*.html"):
        if path.name.endswith("_pdf.html"):  # printed on paper, never on a phone
            continue
        for table in re.findall(r"<table[^>]*>", path.read_text(encoding="utf-8")):
            assert "hf-cards" in table, f"{path.name}: {table}"


class TestNavigation:
    def _nav(self, user, path):
        request = RequestFactory().get(path)
        request.user = user
        request.resolver_match = resolve(path)
        return navigation(request)

    @pytest.mark.parametrize("key", [a.key for a in demo.ACCOUNTS])
    def test_on_each_entrys_page_that_entry_alone_is_highlighted(self, cast, key):
        user = cast.users[key]
        for item in self._nav(user, "/")["nav_items"]:
            nav = self._nav(user, item.url)
            assert nav["nav_active"] == item.key, (key, item.label)
            bottom = [i.key for i in nav["nav_bottom"]]
            assert nav["nav_bottom_active"] in {item.key, "me", None}
            assert nav["nav_bottom_active"] is None or nav["nav_bottom_active"] in bottom

    @pytest.mark.parametrize("key", [a.key for a in demo.ACCOUNTS])
    def test_every_bottom_bar_ends_with_mine(self, cast, key):
        bottom = [i.label for i in self._nav(cast.users[key], "/")["nav_bottom"]]
        assert len(bottom) <= 5 and bottom[0] == "首页" and bottom[-1] == "我的"
        if key == "volunteer":
            assert bottom == ["首页", "活动", "消息", "积分", "我的"]
        if key == "captain":
            assert bottom == ["首页", "活动", "消息", "队员档案", "我的"]

    @pytest.mark.parametrize(
        "path", ["/points/ranking/", "/points/", "/honours/desk/", "/redemption/"]
    )
    def test_the_rendered_page_highlights_one_entry(self, cast, page_as, path):
        text = _text(page_as("captain").get(path))
        sidebar = _between(text, "<aside", "</aside>")
        bottom = _between(text, 'class="hf-bottom-nav"', "</nav>")
        assert sidebar.count("nav-item active") == 1
        assert sidebar.count('aria-current="page"') == 1
        assert bottom.count('aria-current="page"') <= 1

    def test_volunteer_reaches_certificates_from_mine_and_points(self, cast, page_as):
        client = page_as("volunteer")
        for path in ("/me/", "/points/"):  # the sidebar is not shown to a volunteer on a phone
            main = _between(_text(client.get(path)), "<main", "</main>")
            assert 'href="/honours/"' in main, path


class TestClauseNumbers:
    """5.6: volunteers and the public read no clause numbers; staff keep them."""

    @pytest.mark.parametrize(
        "path", ["/members/me/", "/points/", "/points/ranking/", "/honours/", "/redemption/"]
    )
    def test_volunteer_pages(self, cast, page_as, path):
        text = _text(page_as("volunteer").get(path))
        assert not CLAUSE.findall(text), path

    def test_public_pages(self, cast, client):
        for path in ("/apply/privacy/", "/apply/"):
            assert not CLAUSE.findall(_text(client.get(path))), path

    def test_staff_keep_them(self, cast, page_as):
        member = Member.objects.get(name="张三")
        text = _text(page_as("captain").get(f"/members/{member.pk}/"))
        assert "技能与证书（5.2.6）" in text and "（5.2.7 动态管理）" in text


def test_selects_offer_a_chinese_blank_choice(cast, page_as):
    text = _text(page_as("county_admin").get(f"/orgs/{cast.units['zhuji'].pk}/onboard/"))
    assert "请选择" in text and "Select an option" not in text


def test_security_headers(cast, page_as):
    response = page_as("captain").get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]
