"""Browser: apply through the public form on a phone, approve in the review queue, and the new
volunteer signs in and sees their own file (issue 3)."""

import pytest
from playwright.sync_api import expect

from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Member

pytestmark = pytest.mark.browser


def test_apply_then_approve_then_sign_in(new_page, live_server, live_cast, login, screenshot):
    applicant = new_page(phone=True)
    applicant.goto(f"{live_server.url}/login/")
    applicant.get_by_role("link", name="申请加入义警").click()
    applicant.get_by_role("link", name="红枫义警总队").click()
    expect(applicant.get_by_text("入队条件")).to_be_visible()
    applicant.get_by_label("真实姓名").fill("李四")
    applicant.get_by_label("身份证号").fill("11010519491231002x")
    applicant.get_by_label("手机号").fill("13612345678")
    applicant.get_by_label("设置登录密码").fill("Apply#Pass2026")
    applicant.get_by_label("再次输入密码").fill("Apply#Pass2026")
    applicant.get_by_label("急救").check()
    applicant.get_by_label("我已阅读并同意上方的队伍章程与行为规范").check()
    applicant.get_by_label("我已阅读并同意《个人信息处理告知书》").check()
    screenshot(applicant, "apply-form")
    applicant.get_by_role("button", name="提交申请").click()
    code = applicant.get_by_test_id("application-code").inner_text().strip()
    assert code.startswith("HF")

    captain = new_page()
    login(captain, "captain")
    captain.goto(f"{live_server.url}/members/applications/")
    captain.get_by_role("row", name=code).get_by_role("link", name="审核").click()
    expect(captain.get_by_text("1101**********002X")).to_be_visible()
    screenshot(captain, "review")
    captain.get_by_role("button", name="通过，建立档案").click()
    expect(captain.locator("h1")).to_contain_text("李四")
    expect(captain.get_by_text("见习").first).to_be_visible()

    applicant.goto(f"{live_server.url}/login/")
    applicant.get_by_label("手机号", exact=True).fill("13612345678")
    applicant.get_by_label("密码", exact=True).fill("Apply#Pass2026")
    applicant.get_by_role("button", name="登录").click()
    # The phone's bottom bar (ui.md: 首页 活动 消息 积分 我的); the file is under 我的.
    applicant.locator("nav.hf-bottom-nav").get_by_role("link", name="我的", exact=True).click()
    applicant.get_by_role("link", name="我的档案（一人一档）").click()
    expect(applicant.get_by_text("110105194912310 02X".replace(" ", ""))).to_be_visible()
    screenshot(applicant, "my-file")


def test_captain_reveals_an_id_number(page, live_server, live_cast, login, screenshot):
    login(page, "captain")
    member = Member.objects.get(name="张三")
    page.goto(f"{live_server.url}/members/{member.pk}/")
    expect(page.get_by_text("3306**********0038")).to_be_visible()
    assert VOLUNTEER_ID_NUMBER not in page.content()
    page.locator("#reveal-id_number").locator("xpath=..").get_by_text("查看明文").click()
    page.get_by_placeholder("查看原因（记入审计）").first.fill("核对保险信息")
    page.get_by_role("button", name="查看").first.click()
    expect(page.locator("#reveal-id_number")).to_contain_text(VOLUNTEER_ID_NUMBER)
    expect(page.get_by_text("已记入审计")).to_be_visible()
    screenshot(page, "member-file")
