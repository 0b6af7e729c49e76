"""Activity pages for volunteers (issue 4): the list with its tabs (open, mine, near), the
可报名 list that says why an activity cannot be joined or hides it (5.5), an activity's detail
with sign-up, cancel and decline through the page, and the home page's next step. Pages call
the same services as the API, so these tests check what the pages add: who sees them, what they
show, errors in Chinese, and bounded query counts."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.models import Activity, Participation
from hongfeng.members.models import Member
from tests.support.activities import (
    CARE,
    DRAFT,
    HIGH_RISK,
    KEQIAO,
    LAT,
    LON,
    patrol_title,
)


def _text(response) -> str:
    return response.content.decode()


def _squeezed(response) -> str:
    """The page with every run of white space made one space."""
    return re.sub(r"\s+", " ", response.content.decode())


def _activity(title: str) -> Activity:
    return Activity.objects.get(title=title)


class TestList:
    def test_volunteer_sees_open_activities_and_bottom_nav(self, cast, page_as):
        text = _text(page_as("volunteer").get("/activities/"))
        assert CARE in text and patrol_title() in text
        assert KEQIAO not in text  # another county's team
        assert DRAFT not in text
        assert "可报名" in text and "附近" in text and "我的活动" in text
        assert "发布活动" not in text  # a volunteer does not organise
        nav = text[text.index("hf-bottom-nav") :]
        for label in ("首页", "活动", "消息", "我的"):
            assert label in nav

    def test_mine_tab_lists_my_sign_ups(self, cast, page_as):
        text = _text(page_as("volunteer").get("/activities/?tab=mine"))
        assert patrol_title() in text and "已报名" in text
        assert CARE not in text

    def test_near_tab_sorts_by_distance_or_asks_for_position(self, cast, page_as):
        client = page_as("volunteer")
        text = _text(client.get("/activities/?tab=near"))
        assert "使用我的位置" in text and "near.js" in text
        text = _text(client.get("/activities/?tab=near&lat=29.6263&lon=120.3176"))
        assert CARE in text and "约 0 米" in text
        far = _text(client.get("/activities/?tab=near&lat=40.0&lon=116.4"))
        assert "您附近暂时没有可报名的活动" in far
        junk = client.get("/activities/?tab=near&lat=abc&lon=1e999")
        assert junk.status_code == 200 and "使用我的位置" in _text(junk)

    def test_empty_state_says_what_to_do(self, cast, page_as, django_user_model):
        client = page_as("sibling_captain")
        text = _text(client.get("/activities/?tab=mine"))
        assert "您还没有报名任何活动" in text

    def test_captain_manages_with_console_links(self, cast, page_as):
        text = _text(page_as("captain").get("/activities/?tab=manage"))
        assert "发布活动" in text and "控制台" in text and patrol_title() in text
        assert KEQIAO not in text

    @pytest.mark.parametrize("who", ["auditor", "system_admin"])
    def test_three_powers_have_no_activity_pages(self, cast, page_as, who):
        assert page_as(who).get("/activities/").status_code == 403
        patrol = _activity(patrol_title())
        assert page_as(who).get(f"/activities/{patrol.pk}/").status_code == 404

    @pytest.mark.parametrize(
        ("who", "tab", "queries"),
        [
            # open and near: + the page's eligibility facts (5.5), a fixed few
            ("volunteer", "open", 15),
            ("volunteer", "mine", 12),
            ("volunteer", "near", 15),
            ("captain", "manage", 12),
            ("station_officer", "open", 12),
        ],
    )
    def test_list_query_count_is_bounded(
        self, cast, page_as, who, tab, queries, django_assert_max_num_queries
    ):
        client = page_as(who)
        url = f"/activities/?tab={tab}&lat=29.6263&lon=120.3176"
        client.get(url)  # warm the session
        with django_assert_max_num_queries(queries):
            response = client.get(url)
        assert response.status_code == 200


class TestDetailAndSignUp:
    def test_detail_shows_time_place_capacity_and_status(self, cast, page_as):
        patrol = _activity(patrol_title())
        text = _text(page_as("volunteer").get(f"/activities/{patrol.pk}/"))
        local = timezone.localtime(patrol.starts_at)
        weekday = "一二三四五六日"[local.weekday()]
        assert f"{local.year}年{local.month}月{local.day}日（周{weekday}）{local:%H:%M}" in text
        assert "枫桥镇中心街" in text and "共 12 人" in text
        assert "签到范围：枫桥镇中心街周围 400 米" in text
        assert "checkin.js" in text and 'data-next="out"' in text  # 张三 is checked in
        assert "我的签到记录" in text and "定位签到" in text

    def test_high_risk_shows_assessment_and_reasons(self, cast, page_as):
        risky = _activity(HIGH_RISK)
        text = _text(page_as("volunteer").get(f"/activities/{risky.pk}/"))
        assert "安全风险评估" in text and "汛期水位高" in text
        assert "您暂不符合报名条件" in text and "仅限核心队员" in text
        assert f'action="/activities/{risky.pk}/signup/"' not in text

    def test_sign_up_then_cancel_through_the_page(self, cast, page_as):
        care = _activity(CARE)
        client = page_as("volunteer")
        text = _text(client.get(f"/activities/{care.pk}/"))
        assert "未报名" in text and ">报名</button>" in text
        response = client.post(f"/activities/{care.pk}/signup/", follow=True)
        text = _text(response)
        assert "报名成功" in text and "已报名" in text and "取消报名" in text
        member = Member.objects.get(user=cast.users["volunteer"])
        assert Participation.objects.get(activity=care, member=member).status == "confirmed"
        text = _text(client.post(f"/activities/{care.pk}/signup/cancel/", follow=True))
        assert "已取消报名" in text

    def test_sign_up_refusal_is_shown_in_chinese(self, cast, page_as):
        risky = _activity(HIGH_RISK)
        response = page_as("volunteer").post(f"/activities/{risky.pk}/signup/")
        assert response.status_code == 422
        text = _text(response)
        assert "您暂不符合报名条件" in text and "仅限核心队员" in text

    def test_decline(self, cast, page_as):
        care = _activity(CARE)
        text = _text(page_as("volunteer").post(f"/activities/{care.pk}/decline/", follow=True))
        assert "已婉拒" in text

    def test_outsider_gets_404(self, cast, page_as):
        care = _activity(CARE)
        assert page_as("outsider").get(f"/activities/{care.pk}/").status_code == 404
        assert page_as("outsider").post(f"/activities/{care.pk}/signup/").status_code == 404
        assert page_as("volunteer").get("/activities/999999/").status_code == 404
        assert page_as("volunteer").get("/activities/abc/").status_code == 404

    def test_detail_bounded(self, cast, page_as, django_assert_max_num_queries):
        patrol = _activity(patrol_title())
        client = page_as("volunteer")
        client.get(f"/activities/{patrol.pk}/")
        with django_assert_max_num_queries(22):
            assert client.get(f"/activities/{patrol.pk}/").status_code == 200

    def test_sign_up_needs_post(self, cast, page_as):
        care = _activity(CARE)
        assert page_as("volunteer").get(f"/activities/{care.pk}/signup/").status_code == 405


class TestHome:
    def test_volunteer_home_says_what_to_do_next(self, cast, page_as):
        text = _text(page_as("volunteer").get("/"))
        assert "我的服务" in text and "本月服务时长" in text and "未读消息" in text
        assert patrol_title() in text  # 张三's running patrol is his next activity
        assert "可报名活动" in text

    def test_no_service_card_without_a_member_file(self, cast, page_as):
        text = _text(page_as("county_admin").get("/"))
        assert "我的服务" not in text

    def test_home_bounded(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("captain")
        with django_assert_max_num_queries(40):
            assert client.get("/").status_code == 200


class TestOpenList:
    """5.5: the volunteer learns on the card why he cannot join, or sees only what he can."""

    def test_cards_carry_the_reasons(self, cast, page_as):
        text = _squeezed(page_as("volunteer").get("/activities/?tab=open"))
        card = text[text.index(HIGH_RISK) : text.index("</a>", text.index(HIGH_RISK))]
        assert "暂不能报名" in card and "该活动仅限核心队员参加。" in card
        care = text[text.index(CARE) : text.index("</a>", text.index(CARE))]
        assert "暂不能报名" not in care
        patrol = text[text.index(patrol_title()) : text.index("</a>", text.index(patrol_title()))]
        assert "暂不能报名" not in patrol and "已报名" in patrol  # his own answer, not a reason

    def test_filter_shows_only_what_he_can_join(self, cast, page_as):
        text = _squeezed(page_as("volunteer").get("/activities/?tab=open&joinable=1"))
        assert CARE in text
        assert HIGH_RISK not in text  # not eligible
        assert patrol_title() not in text  # already signed up
        assert "暂不能报名" not in text

    def test_queries_do_not_grow_with_the_page(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("volunteer")
        client.get("/activities/?tab=open")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get("/activities/?tab=open")
        for i in range(6):  # more cards, each with skills and a high-risk one among them
            services.publish_activity(
                actor=cast.users["captain"],
                activity=services.create_activity(
                    actor=cast.users["captain"],
                    unit=cast.units["hongfeng"],
                    audience_unit=None,
                    data=services.ActivityData(
                        kind="patrol",
                        title=f"加开巡逻{i}",
                        place="枫桥",
                        latitude=LAT,
                        longitude=LON,
                        starts_at=timezone.now() + timedelta(days=1, hours=i),
                        ends_at=timezone.now() + timedelta(days=1, hours=i + 2),
                        capacity=5,
                        difficulty="high_risk" if i % 2 else "normal",
                        audience_skills=["first_aid"],
                        required_skills=["first_aid"],
                    ),
                ),
            )
        with django_assert_max_num_queries(len(few)):
            assert "加开巡逻5" in _squeezed(client.get("/activities/?tab=open"))
        with django_assert_max_num_queries(len(few)):
            assert client.get("/activities/?tab=open&joinable=1").status_code == 200
