"""Browser: a volunteer on a phone reads their points, opens 积分兑换 from the points page,
redeems an item after confirming, and sees the order waiting in 我的兑换 with the balance
reduced; the association admin hands it over at a desk (5.4.5)."""

import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from hongfeng.points.models import MemberPoints
from hongfeng.points.services import post_entry
from hongfeng.redemption.models import CatalogueItem, Order, OrderStatus

from .conftest import PHONE, TIMEOUT_MS

pytestmark = pytest.mark.browser


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_volunteer_redeems_on_a_phone(browser, live_server, live_cast, login, screenshot):
    member = live_cast.users["volunteer"].member
    post_entry(
        member=member,
        source="award",
        amount=Decimal(60),
        explanation="表彰奖励（浏览器测试）",
        key=f"test:{uuid.uuid4().hex}",
    )
    balance = MemberPoints.objects.get(member=member).balance
    item = CatalogueItem.objects.get(association=live_cast.units["zhuji"], name="急救包")
    stock = item.stock
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="zh-CN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors = _errors(page)
        login(page, "volunteer")

        page.locator("nav.hf-bottom-nav").get_by_role("link", name="积分").click()
        expect(page.get_by_role("heading", name="我的积分")).to_be_visible()
        expect(page.get_by_text("可用余额")).to_contain_text(f"{balance.normalize():f}")
        page.get_by_role("link", name="积分兑换").click()

        expect(page.get_by_role("heading", name="积分兑换", exact=True)).to_be_visible()
        expect(page.locator("#balance")).to_contain_text(f"{balance.normalize():f}")
        card = page.locator(f"#item-{item.pk}")
        expect(card).to_contain_text("40 分")
        expect(page.locator("section").filter(has_text="义警马甲")).to_contain_text("已兑完")
        expect(page.get_by_text("电影票")).to_have_count(0)  # past its dates
        screenshot(page, "catalogue")

        dialogs = []

        def accept(dialog):
            dialogs.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        with page.expect_navigation():
            card.get_by_role("button", name="兑换").click()
        assert dialogs and "急救包" in dialogs[0]

        expect(page.get_by_role("heading", name="我的兑换")).to_be_visible()
        expect(page.get_by_text("兑换成功")).to_be_visible()
        order = Order.objects.get(member=member, item=item)
        row = page.locator(f"#order-{order.pk}")
        expect(row).to_contain_text("急救包 × 1")
        expect(row).to_contain_text("待领取")
        expect(page.get_by_text("可用余额")).to_contain_text(f"{(balance - 40).normalize():f}")
        screenshot(page, "my-orders")
        assert not errors, errors
    finally:
        context.close()

    item.refresh_from_db()
    assert item.stock == stock - 1
    assert MemberPoints.objects.get(member=member).balance == balance - 40

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    desk.set_default_timeout(TIMEOUT_MS)
    try:
        page = desk.new_page()
        errors = _errors(page)
        login(page, "county_admin")
        page.goto(f"{live_server.url}/redemption/manage/orders/")
        row = page.locator(f"#order-{order.pk}")
        expect(row).to_contain_text("张*")
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            row.get_by_role("button", name="交付").click()
        expect(page.get_by_text("已记录交付")).to_be_visible()
        screenshot(page, "orders")
        assert not errors, errors
    finally:
        desk.close()
    order.refresh_from_db()
    assert order.status == OrderStatus.HANDED_OVER
