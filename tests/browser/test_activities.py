"""Browser: a volunteer on a phone finds an activity starting soon, signs up, sees where the
geofence is and that the phone is inside it, checks in and sees the success state; the
organiser's console shows the check-in and the rotating QR code (issue 4)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hongfeng.activities import services
from hongfeng.activities.demo import FENGQIAO
from hongfeng.activities.models import ActivityKind, CheckIn

from .conftest import PHONE, TIMEOUT_MS

pytestmark = pytest.mark.browser

TITLE = "枫桥老街傍晚巡逻"


def _soon(cast):
    """An activity starting in ten minutes (check-in opens 30 minutes before the start)."""
    captain = cast.users["captain"]
    team = cast.units["hongfeng"]
    starts = timezone.now() + timedelta(minutes=10)
    activity = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=services.ActivityData(
            kind=ActivityKind.PATROL,
            title=TITLE,
            place="枫桥老街",
            latitude=FENGQIAO[0],
            longitude=FENGQIAO[1],
            radius_m=200,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=6,
            description="两人一组沿老街巡逻，注意防火和防盗。",
        ),
    )
    return services.publish_activity(actor=captain, activity=activity)


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_volunteer_signs_up_and_checks_in_on_a_phone(
    browser, live_server, live_cast, login, screenshot
):
    activity = _soon(live_cast)
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        geolocation={"latitude": FENGQIAO[0] + 0.0003, "longitude": FENGQIAO[1], "accuracy": 12},
    )
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors = _errors(page)
        login(page, "volunteer")

        bottom = page.locator("nav.hf-bottom-nav")
        expect(bottom.get_by_role("link", name="消息")).to_be_visible()
        bottom.get_by_role("link", name="活动", exact=True).click()
        expect(page.get_by_role("heading", name="活动", exact=True)).to_be_visible()
        screenshot(page, "list")
        page.get_by_role("link", name=TITLE).click()

        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.locator("#answer")).to_contain_text("未报名")
        page.get_by_role("button", name="报名", exact=True).click()
        expect(page.get_by_text("报名成功")).to_be_visible()
        expect(page.locator("#answer .card-actions")).to_have_text("已报名")

        geo = page.locator("#geo-status")
        expect(geo).to_contain_text("您在签到范围内")
        expect(geo).to_contain_text("约 33 米")
        screenshot(page, "before-check-in")
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.locator("#checkin-result")).to_contain_text("签到成功")
        expect(page.get_by_role("button", name="签退", exact=True)).to_be_visible()
        expect(page.locator("#checkin-records")).to_contain_text("定位签到")
        screenshot(page, "checked-in")

        checkin = CheckIn.objects.get(activity=activity, member__user=live_cast.users["volunteer"])
        assert checkin.kind == "in" and checkin.method == "gps" and not checkin.flagged
        assert checkin.distance_m is not None and checkin.distance_m < 50

        page.reload()  # the page itself knows I am checked in
        expect(page.get_by_role("button", name="签退", exact=True)).to_be_visible()
        assert not errors, errors
    finally:
        context.close()


def test_outside_the_fence_offers_review_and_offline_is_queued(
    browser, live_server, live_cast, login, screenshot
):
    activity = _soon(live_cast)
    services.sign_up(user=live_cast.users["volunteer"], activity=activity)
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        locale="zh-CN",
        geolocation={"latitude": FENGQIAO[0] + 0.02, "longitude": FENGQIAO[1], "accuracy": 15},
    )
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "volunteer")
        page.goto(f"{live_server.url}/activities/{activity.pk}/")
        expect(page.locator("#geo-status")).to_contain_text("您不在签到范围内")
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.locator("#checkin-result")).to_contain_text("超出签到范围")
        page.get_by_role("button", name="仍然提交，由组织者审核").click()
        expect(page.locator("#checkin-result")).to_contain_text("签到成功")
        expect(page.locator("#checkin-result")).to_contain_text("需组织者审核")
        screenshot(page, "flagged")
        assert CheckIn.objects.get(activity=activity).flagged

        # Offline: the check-out is kept on the phone and synced when the connection is back.
        context.set_offline(True)
        page.get_by_role("button", name="签退", exact=True).click()
        expect(page.locator("#checkin-result")).to_contain_text("已离线保存，联网后自动同步")
        assert CheckIn.objects.filter(activity=activity).count() == 1
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(page.locator("#checkin-result")).to_contain_text("离线记录已同步")
        page.wait_for_function("!window.localStorage.getItem('hf-offline-checkins')")
        out = CheckIn.objects.get(activity=activity, kind="out")
        assert out.offline
    finally:
        context.close()


def test_console_shows_live_counts_and_qr(page, live_server, live_cast, login, screenshot):
    activity = _soon(live_cast)
    services.sign_up(user=live_cast.users["volunteer"], activity=activity)
    login(page, "captain")
    page.goto(f"{live_server.url}/activities/{activity.pk}/console/")
    expect(page.get_by_test_id("confirmed-count")).to_contain_text("1/6")
    expect(page.get_by_test_id("qr-token")).to_contain_text(f"HFQR.{activity.pk}.")
    expect(page.locator("#qr-box svg")).to_be_visible()
    screenshot(page, "console")
