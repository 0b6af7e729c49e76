"""Pages as people see them (issue 15, item 5; ui.md): lists that become cards on a phone, one
highlighted navigation entry and 我的 in every bottom bar, 实名登记 and 名册导入 from the sidebar's
队员档案, Chinese instead of codes, no clause numbers for volunteers and the public, accounts
in pinyin order. What only a browser can see is in tests/browser/test_every_page.py."""

import re
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.urls import resolve
from pypinyin import lazy_pinyin

import hongfeng
from hongfeng.accounts.models import User
from hongfeng.audit.models import AuditEvent
from hongfeng.core import demo
from hongfeng.core.context_processors import navigation
from hongfeng.members.models import Application, Member

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


class TestRegisterAndImportFromTheSidebar:
    def test_the_list_offers_them_to_those_who_may(self, cast, page_as):
        captain = _text(page_as("captain").get("/members/"))
        assert 'href="/members/new/"' in captain and 'href="/members/roster/"' in captain
        squad = _text(page_as("squad_leader").get("/members/"))
        assert 'href="/members/new/"' in squad and "/members/roster/" not in squad
        station = _text(page_as("station_officer").get("/members/"))
        assert "/members/new/" not in station and "/members/roster/" not in station

    def test_the_unit_is_picked_from_the_users_scope(self, cast, page_as):
        county = page_as("county_admin")
        text = _text(county.get("/members/new/"))
        assert "登记到哪个单位" in text and "红枫义警总队 · 第一分队 · 第一小组" in text
        assert "柯桥义警总队" not in text  # another county
        text = _text(county.get("/members/roster/"))
        assert "红枫义警总队" in text and "暨阳义警总队" in text and "第一小组" not in text
        group = cast.units["hongfeng_group1"]
        assert county.get(f"/members/new/?unit={group.pk}").status_code == 200

    def test_one_team_goes_straight_to_it(self, cast, page_as):
        response = page_as("captain").get("/members/roster/")
        assert response.status_code == 302
        assert response["Location"].endswith(f"?team={cast.units['hongfeng'].pk}")

    def test_others_are_refused(self, cast, page_as):
        assert page_as("station_officer").get("/members/new/").status_code == 403
        assert page_as("squad_leader").get("/members/roster/").status_code == 403


class TestWordsNotCodes:
    def test_application_shows_the_skills_chinese_name(self, cast, page_as):
        application = next(a for a in Application.objects.all() if "first_aid" in a.skills)
        text = _text(page_as("captain").get(f"/members/applications/{application.pk}/"))
        assert "急救" in text and "first_aid" not in text

    def test_selects_offer_a_chinese_blank_choice(self, cast, page_as):
        text = _text(page_as("county_admin").get(f"/orgs/{cast.units['zhuji'].pk}/onboard/"))
        assert "请选择" in text and "Select an option" not in text

    def test_audit_event_names_its_target_kind_and_channel(self, cast, page_as):
        event = AuditEvent.objects.filter(target_type="accounts.user").first()
        text = _text(page_as("auditor").get(f"/audit/{event.pk}/"))
        assert "accounts.user" not in text and "账号 编号" in text
        assert f"{event.channel_label} ·" in text and event.channel_label != event.channel

    def test_publishing_a_notice_is_offered_only_to_who_may(self, cast, page_as):
        assert "/activities/attendance/" in _text(page_as("captain").get("/activities/"))
        station = _text(page_as("station_officer").get("/activities/"))
        assert "/activities/attendance/" not in station


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


class TestAccountsInPinyinOrder:
    def test_list(self, cast, page_as):
        text = _text(page_as("system_admin").get("/accounts/"))
        names = re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', text)
        assert len(names) > 10
        assert names == sorted(names, key=lambda n: "".join(lazy_pinyin(n)))

    def test_new_and_imported_accounts_carry_it(self, cast):
        assert User.objects.get(mobile="13900000033").name_pinyin == "zhangsan"
        assert not User.objects.filter(name_pinyin="").exists()

    def test_migration_fills_existing_accounts(self, cast):
        User.objects.update(name_pinyin="")
        migration = import_module("hongfeng.accounts.migrations.0004_user_name_pinyin")
        migration.fill_pinyin(apps, None)
        assert User.objects.get(mobile="13900000033").name_pinyin == "zhangsan"
        assert not User.objects.filter(name_pinyin="").exists()
