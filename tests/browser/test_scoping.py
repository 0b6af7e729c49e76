"""What each role sees in a real browser: the captain's tree stops at their team, a 队员 gets the
phone layout without admin entries, login errors, the audit browser, and a clean console (no
Content-Security-Policy violations)."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

OUTSIDE_CAPTAIN = ["诸暨市义警协会", "暨阳义警总队", "西湖义警总队", "柯桥义警总队"]


def expand(page: Page, live_server, unit) -> None:
    """Open a tree node and wait until htmx has swapped its children in."""
    node = page.locator(f'li[data-unit="{unit.pk}"]')
    with page.expect_response(
        lambda r: (
            r.url.startswith(f"{live_server.url}/orgs/{unit.pk}/children/") and r.status == 200
        )
    ):
        node.locator(":scope > details > summary").click()
    expect(node.locator(":scope > details")).to_have_attribute("open", "")
    placeholder = node.locator(
        ":scope > details > .hf-children > li:not([data-unit])", has_text="加载中"
    )
    expect(placeholder).to_have_count(0)


def test_captain_sees_only_their_team(page, live_server, live_cast, login, screenshot):
    team = live_cast.units["hongfeng"]
    login(page, "captain")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("main .card-title", has_text="红枫义警总队")).to_be_visible()
    expect(page.locator("header")).to_contain_text("楼红枫")
    screenshot(page, "home")

    page.goto(f"{live_server.url}/orgs/")
    node = page.locator(f'li[data-unit="{team.pk}"]')
    expect(node).to_be_visible()
    expect(node.get_by_role("link", name="红枫义警总队", exact=True)).to_be_visible()
    expand(page, live_server, team)
    children = node.locator(":scope > details > .hf-children")
    for squad in ("hongfeng_squad1", "hongfeng_squad2"):
        unit = live_cast.units[squad]
        expect(children.locator(f'li[data-unit="{unit.pk}"]')).to_be_visible()
    expect(children).to_contain_text("第一分队")
    expect(children).to_contain_text("第二分队")
    html = page.content()
    for name in OUTSIDE_CAPTAIN:
        assert name not in html, f"{name} leaks into the captain's tree"
    screenshot(page, "tree")

    other = live_cast.units["jiyang_team"]
    response = page.goto(f"{live_server.url}/orgs/{other.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("页面不存在")
    assert "暨阳义警总队" not in page.content()


def test_volunteer_on_a_phone(new_page, live_server, live_cast, login, screenshot):
    page = new_page(phone=True)
    login(page, "volunteer")
    expect(page).to_have_url(f"{live_server.url}/")

    bottom = page.locator("nav.hf-bottom-nav")
    expect(bottom).to_be_visible()
    expect(bottom.get_by_role("link", name="首页", exact=True)).to_be_visible()
    expect(bottom.get_by_role("link", name="我的", exact=True)).to_be_visible()
    expect(bottom.get_by_role("link", name="首页", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    for label in ("活动", "消息", "积分"):
        expect(bottom.get_by_role("link", name=label)).to_be_visible()
    cards = page.locator("main section.card")
    expect(cards).to_have_count(2)
    service = cards.nth(0)  # "what do I do next?" (ui.md)
    expect(service.locator(".card-title")).to_have_text("我的服务")
    expect(service).to_contain_text("本月服务时长")
    card = cards.nth(1)
    expect(card.locator(".card-title")).to_have_text("红枫义警总队 / 第一分队 / 第一小组")
    expect(card).to_contain_text("楼红枫")  # 总队长
    expect(card).to_contain_text("指导派出所：枫桥派出所")

    for label in ("角色授权", "安全审计"):
        expect(page.locator("aside .nav-link", has_text=label)).to_have_count(0)
        expect(page.get_by_role("link", name=label)).to_have_count(0)
    screenshot(page, "home")


def test_wrong_password_keeps_the_mobile(page, live_server, live_cast, login):
    mobile = live_cast.users["volunteer"].mobile
    login(page, "volunteer", password="Wrong@2026x")
    expect(page).to_have_url(re.compile(r"/login/$"))
    alert = page.locator("form .alert-danger")
    expect(alert).to_be_visible()
    expect(alert).to_have_text("手机号或密码不正确。")
    expect(page.get_by_label("手机号", exact=True)).to_have_value(mobile)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")


def test_auditor_reads_the_audit_trail(page, live_server, live_cast, login):
    login(page, "auditor")
    page.goto(f"{live_server.url}/audit/?action=unit.created")
    expect(page.locator("h1")).to_contain_text("安全审计")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_text="新建单位").first).to_be_visible()
    expect(page.locator(".hf-empty")).to_have_count(0)


def test_no_console_errors_on_home_and_tree(page, console_errors, live_server, live_cast, login):
    login(page, "captain")
    page.wait_for_load_state("networkidle")
    # Only the home and tree pages are under test here; the login page's own noise (see
    # test_first_page_logs_no_error) is dropped once it has settled.
    console_errors.clear()
    page.goto(f"{live_server.url}/")
    expect(page.locator("main .card-title", has_text="红枫义警总队")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/orgs/")
    expand(page, live_server, live_cast.units["hongfeng"])
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_first_page_logs_no_error(fresh_browser, live_server, live_cast):
    page = fresh_browser.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/login/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert errors == []
