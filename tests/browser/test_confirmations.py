"""Browser: what cannot be undone asks first (ui.md; issue 15, item 5.8) — retiring an honour
title on the honours desk and publishing a star rating from its run page, on a phone. Declining
the question changes nothing; accepting it does the deed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hongfeng.honours import services as honours
from hongfeng.honours.models import HonourTitle, ThresholdKind
from hongfeng.points import services as points
from hongfeng.points.models import RatingRun

pytestmark = pytest.mark.browser


def test_retire_a_title_and_publish_a_rating_after_confirming(
    new_page, live_server, live_cast, login, screenshot
):
    admin = live_cast.users["county_admin"]
    title = honours.create_title(
        actor=admin,
        association=live_cast.units["zhuji"],
        name="夜巡之星",
        threshold_kind=ThresholdKind.MANUAL,
    )
    run = points.run_rating(
        actor=admin,
        association=live_cast.units["zhuji"],
        year=(timezone.localdate() - timedelta(days=10)).year,
    )
    page = new_page(phone=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, "county_admin")

    page.goto(f"{live_server.url}/honours/desk/")
    row = page.locator("tr", has_text="夜巡之星")
    questions: list[str] = []

    def decline(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    row.get_by_role("button", name="停用").click()
    expect(row.get_by_role("button", name="停用")).to_be_visible()
    assert "不能重新启用" in questions[0]
    assert HonourTitle.objects.get(pk=title.pk).active

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="停用").click()
    expect(page.get_by_text("已停用荣誉称号「夜巡之星」")).to_be_visible()
    assert not HonourTitle.objects.get(pk=title.pk).active

    page.goto(f"{live_server.url}/points/ratings/{run.pk}/")
    page.get_by_role("link", name="复核").click()
    expect(page.get_by_text("复核一致")).to_be_visible()
    screenshot(page, "run")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="公布").click()
    expect(page.get_by_role("link", name="查看公开页面")).to_be_visible()
    assert RatingRun.objects.get(pk=run.pk).published
    assert errors == []
