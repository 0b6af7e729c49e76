"""Browser: what issue 15 (item 5) found on a phone — the publish form's choice groups are
chips one taps (5.1), and a check-in's confirmation shows the time in Asia/Shanghai even on a
phone set to another time zone (5.7)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hongfeng.activities.demo import FENGQIAO
from hongfeng.activities.models import Activity, CheckIn
from hongfeng.activities.services import sign_up

from .conftest import PHONE, TIMEOUT_MS
from .test_activities import _soon

pytestmark = pytest.mark.browser


def test_publish_form_choices_are_chips_one_taps(new_page, live_server, live_cast, login):
    page = new_page(phone=True)
    login(page, "captain")
    page.goto(f"{live_server.url}/activities/new/")
    required = page.get_by_role("group", name="所需技能")
    required.get_by_text("急救", exact=True).click()  # the chip's words, not a tiny box
    expect(required.get_by_label("急救")).to_be_checked()
    expect(page.get_by_role("group", name="面向技能").get_by_label("急救")).not_to_be_checked()
    page.get_by_role("group", name="所需装备").get_by_text("对讲机").click()

    start = timezone.localtime() + timedelta(days=3)
    page.get_by_label("标题").fill("汛期堤坝巡查")
    page.get_by_label("地点").fill("枫桥江堤")
    page.get_by_label("纬度").fill(str(FENGQIAO[0]))
    page.get_by_label("经度").fill(str(FENGQIAO[1]))
    page.get_by_label("开始时间").fill(start.strftime("%Y-%m-%dT09:00"))
    page.get_by_label("结束时间").fill(start.strftime("%Y-%m-%dT11:00"))
    page.get_by_label("名额（人）", exact=True).fill("8")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存")).to_be_visible()

    activity = Activity.objects.get(title="汛期堤坝巡查")
    assert [s.code for s in activity.required_skills.all()] == ["first_aid"]
    assert not activity.audience_skills.exists()
    assert activity.required_equipment == ["radio"]


def test_check_in_time_is_shanghai_time_on_a_new_york_phone(browser, live_server, live_cast, login):
    activity = _soon(live_cast)
    sign_up(user=live_cast.users["volunteer"], activity=activity)
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        locale="zh-CN",
        timezone_id="America/New_York",
        geolocation={"latitude": FENGQIAO[0] + 0.0003, "longitude": FENGQIAO[1], "accuracy": 12},
    )
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "volunteer")
        page.goto(f"{live_server.url}/activities/{activity.pk}/")
        expect(page.locator("#geo-status")).to_contain_text("您在签到范围内")
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.locator("#checkin-result")).to_contain_text("签到成功")
        checkin = CheckIn.objects.get(activity=activity, member__user=live_cast.users["volunteer"])
        shanghai = checkin.at.astimezone(ZoneInfo("Asia/Shanghai"))
        expect(page.locator("#checkin-result")).to_contain_text(f"签到成功（{shanghai:%H:%M}）")
        expect(page.locator("#checkin-records")).to_contain_text(f"签到 · {shanghai:%H:%M}")
    finally:
        context.close()
