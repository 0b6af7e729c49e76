"""Activity pages for organisers (issue 4): the publish form and editing, the console
(counts, participants and their names, reviews, manual check-in, QR, cancel, finish, ratings,
evaluation, hours corrections) and the monthly 公示 with its public page and workbook. Pages
call the same services as the API, so these tests check what the pages add: who sees them, what
they show, that errors come back in Chinese next to the field, and bounded query counts."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from hongfeng.activities import services
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    AttendanceNotice,
    CheckIn,
    CheckInReview,
    Participation,
    ParticipationStatus,
)
from hongfeng.members.models import Member
from hongfeng.notices.models import Notice
from tests.support.activities import CARE, DRAFT, HIGH_RISK, LAT, LON, patrol_title


def _text(response) -> str:
    return response.content.decode()


def _squeezed(response) -> str:
    """The page with every run of white space made one space."""
    return re.sub(r"\s+", " ", response.content.decode())


def _activity(title: str) -> Activity:
    return Activity.objects.get(title=title)


def _form(**changes) -> dict:
    start = timezone.localtime() + timedelta(days=3)
    data = {
        "unit": "",
        "audience_unit": "",
        "kind": "publicity",
        "title": "社区反诈讲座",
        "description": "向居民讲解常见诈骗手法。",
        "place": "枫桥镇文化礼堂",
        "latitude": "29.6263",
        "longitude": "120.3176",
        "radius_m": "300",
        "starts_at": start.strftime("%Y-%m-%dT09:00"),
        "ends_at": start.strftime("%Y-%m-%dT11:30"),
        "capacity": "10",
        "waitlist_limit": "5",
        "difficulty": "normal",
        # as the form is pre-filled (5.4.7): the default for the kind
        "risk_assessment": services.BUILTIN_RISK_ASSESSMENTS["publicity"],
    }
    data.update(changes)
    return data


class TestPublish:
    def test_form_renders_for_organisers_only(self, cast, page_as):
        text = _text(page_as("captain").get("/activities/new/"))
        assert "发布单位" in text and "红枫义警总队" in text and "保存并发布" in text
        assert 'type="datetime-local"' in text
        assert "第一小组（小组）" not in text.split('name="audience_unit"')[0]  # no group publishes
        assert page_as("volunteer").get("/activities/new/").status_code == 403
        assert page_as("group_leader").get("/activities/new/").status_code == 403

    def test_save_draft_in_shanghai_time(self, cast, page_as):
        team = cast.units["hongfeng"]
        response = page_as("captain").post("/activities/new/", _form(unit=team.pk, save="1"))
        activity = Activity.objects.get(title="社区反诈讲座")
        assert response.status_code == 302
        assert response["Location"] == f"/activities/{activity.pk}/console/"
        assert activity.status == ActivityStatus.DRAFT
        assert timezone.localtime(activity.starts_at).hour == 9
        assert str(timezone.localtime(activity.starts_at).tzinfo) == "Asia/Shanghai"

    def test_publish_at_once(self, cast, page_as, django_capture_on_commit_callbacks):
        team = cast.units["hongfeng"]
        with django_capture_on_commit_callbacks(execute=True):
            page_as("captain").post("/activities/new/", _form(unit=team.pk, publish="1"))
        activity = Activity.objects.get(title="社区反诈讲座")
        assert activity.status == ActivityStatus.PUBLISHED
        assert Notice.objects.filter(ref=f"activity:{activity.pk}").exists()

    def test_errors_next_to_the_field_and_input_kept(self, cast, page_as):
        team = cast.units["hongfeng"]
        client = page_as("captain")
        data = _form(
            unit=team.pk,
            publish="1",
            difficulty="high_risk",
            title="夜间水域巡查",
            risk_assessment="",
        )
        response = client.post("/activities/new/", data)
        text = _text(response)
        assert response.status_code == 200
        assert "高风险活动须先填写安全风险评估" in text
        assert 'id="id_risk_assessment-error"' in text
        assert 'value="夜间水域巡查"' in text
        assert not Activity.objects.filter(title="夜间水域巡查").exists()  # nothing half-made
        late = dict(data, difficulty="normal", ends_at=data["starts_at"])
        text = _text(client.post("/activities/new/", late))
        assert "结束时间必须晚于开始时间" in text and 'id="id_ends_at-error"' in text

    def test_cannot_publish_for_a_unit_out_of_reach(self, cast, page_as):
        other = cast.units["keqiao_team"]
        response = page_as("captain").post("/activities/new/", _form(unit=other.pk))
        assert response.status_code == 200 and 'id="id_unit-error"' in _text(response)
        assert not Activity.objects.filter(title="社区反诈讲座").exists()


class TestEdit:
    def test_edit_prefilled_saved_and_waitlist_promoted(self, cast, page_as):
        activity = _activity("防范电信诈骗集市宣传")  # demo: 3 places taken, 2 waiting
        client = page_as("captain")
        text = _text(client.get(f"/activities/{activity.pk}/edit/"))
        assert 'value="防范电信诈骗集市宣传"' in text and "修改活动" in text
        start = timezone.localtime(activity.starts_at)
        end = timezone.localtime(activity.ends_at)
        data = _form(
            unit=activity.unit_id,
            title=activity.title,
            kind=activity.kind,
            starts_at=start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=end.strftime("%Y-%m-%dT%H:%M"),
            capacity="4",
            version=str(activity.version),
            save="1",
        )
        response = client.post(f"/activities/{activity.pk}/edit/", data)
        assert response.status_code == 302, _text(response)
        activity.refresh_from_db()
        assert (activity.capacity, activity.confirmed_count, activity.waitlist_count) == (4, 4, 1)
        stale = client.post(f"/activities/{activity.pk}/edit/", dict(data, capacity="5"))
        assert stale.status_code == 200 and "已被他人修改" in _text(stale)
        activity.refresh_from_db()
        assert activity.capacity == 4

    def test_capacity_below_confirmed_refused(self, cast, page_as):
        activity = _activity("防范电信诈骗集市宣传")
        start = timezone.localtime(activity.starts_at)
        data = _form(
            unit=activity.unit_id,
            starts_at=start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            capacity="1",
            version=str(activity.version),
        )
        text = _text(page_as("captain").post(f"/activities/{activity.pk}/edit/", data))
        assert "名额不能少于此数" in text and 'id="id_capacity-error"' in text

    def test_only_organisers_edit_and_not_after_the_start(self, cast, page_as):
        upcoming = _activity("防范电信诈骗集市宣传")
        assert page_as("volunteer").get(f"/activities/{upcoming.pk}/edit/").status_code == 403
        assert page_as("sibling_captain").get(f"/activities/{upcoming.pk}/edit/").status_code == 404
        running = _activity(patrol_title())
        response = page_as("captain").get(f"/activities/{running.pk}/edit/")
        assert response.status_code == 302


class TestConsole:
    def test_console_shows_counts_participants_and_checkins(self, cast, page_as):
        patrol = _activity(patrol_title())
        text = _text(page_as("captain").get(f"/activities/{patrol.pk}/console/"))
        assert "实时数据" in text and 'hx-trigger="every 5s"' in text
        assert "待审核签到" in text and "不在签到范围内" in text
        # 5.7: the team's own captain knows his people by name; a station officer reads masks
        assert "张三" in text.split("<main")[1]
        officer = _text(page_as("station_officer").get(f"/activities/{patrol.pk}/console/"))
        assert "张*" in officer and "张三" not in officer.split("<main")[1]
        assert "签到码" in text and "补签" in text and "状态记录" in text
        counts = _text(page_as("captain").get(f"/activities/{patrol.pk}/console/counts/"))
        assert "9/12" in counts and "在岗" in counts

    def test_qr_partial_is_a_fresh_svg(self, cast, page_as):
        patrol = _activity(patrol_title())
        response = page_as("captain").get(f"/activities/{patrol.pk}/console/qr/")
        text = _text(response)
        assert "<svg" in text and f"HFQR.{patrol.pk}." in text and "秒后更新" in text
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

    @pytest.mark.parametrize("who", ["volunteer", "group_leader"])
    def test_non_organisers_are_refused(self, cast, page_as, who):
        patrol = _activity(patrol_title())
        assert page_as(who).get(f"/activities/{patrol.pk}/console/").status_code == 403

    @pytest.mark.parametrize("who", ["outsider", "sibling_captain", "auditor"])
    def test_outsiders_get_404(self, cast, page_as, who):
        patrol = _activity(patrol_title())
        assert page_as(who).get(f"/activities/{patrol.pk}/console/").status_code == 404
        assert page_as(who).get(f"/activities/{patrol.pk}/console/qr/").status_code == 404

    def test_station_officer_runs_its_high_risk_activity(self, cast, page_as):
        risky = _activity(HIGH_RISK)
        text = _text(page_as("station_officer").get(f"/activities/{risky.pk}/console/"))
        assert "还没有人报名" in text

    def test_review_form(self, cast, page_as):
        patrol = _activity(patrol_title())
        flagged = CheckIn.objects.get(activity=patrol, flagged=True)
        client = page_as("captain")
        url = f"/activities/{patrol.pk}/checkins/{flagged.pk}/review/"
        response = client.post(url, {"decision": "accepted", "reason": ""})
        assert response.status_code == 400 and "必填" in _text(response)
        response = client.post(url, {"decision": "accepted", "reason": "电话核实在现场"})
        assert response.status_code == 302
        review = CheckInReview.objects.get(checkin=flagged)
        assert review.decision == "accepted" and review.reason == "电话核实在现场"
        text = _text(client.get(f"/activities/{patrol.pk}/console/"))
        assert "认可" in text and "电话核实在现场" in text

    def test_review_of_another_activitys_checkin_is_404(self, cast, page_as):
        patrol = _activity(patrol_title())
        other = CheckIn.objects.exclude(activity=patrol).first()
        url = f"/activities/{patrol.pk}/checkins/{other.pk}/review/"
        response = page_as("captain").post(url, {"decision": "accepted", "reason": "x"})
        assert response.status_code == 404

    def test_manual_check_in(self, cast, page_as):
        patrol = _activity(patrol_title())
        client = page_as("captain")
        waiting = (
            Participation.objects.filter(activity=patrol, status=ParticipationStatus.CONFIRMED)
            .exclude(member__checkins__activity=patrol)
            .first()
        )
        url = f"/activities/{patrol.pk}/checkins/manual/"
        response = client.post(url, {"member": waiting.member_id, "kind": "out", "reason": "没电"})
        assert response.status_code == 400 and "还没有签到" in _text(response)
        response = client.post(url, {"member": waiting.member_id, "kind": "in", "reason": "没电"})
        assert response.status_code == 302
        assert CheckIn.objects.filter(
            activity=patrol, member_id=waiting.member_id, method="manual", reason="没电"
        ).exists()

    def test_cancel_needs_reason_and_confirmation(self, cast, page_as):
        care = _activity(CARE)
        client = page_as("captain")
        url = f"/activities/{care.pk}/cancel/"
        response = client.post(url, {"reason": "暴雨预警"})
        assert response.status_code == 400 and "data-confirm" in _text(response)
        assert Activity.objects.get(pk=care.pk).status == ActivityStatus.PUBLISHED
        client.post(url, {"reason": "暴雨预警", "confirm": "on"})
        care.refresh_from_db()
        assert care.status == ActivityStatus.CANCELLED and care.cancel_reason == "暴雨预警"

    def test_publish_a_draft_from_the_console_shows_service_errors(self, cast, page_as):
        draft = _activity(DRAFT)
        client = page_as("squad_leader")
        text = _text(client.get(f"/activities/{draft.pk}/console/"))
        assert "还没有人报名" in text and ">发布</button>" in text
        response = client.post(f"/activities/{draft.pk}/publish/", follow=True)
        assert "活动已发布" in _text(response)
        draft.refresh_from_db()
        assert draft.status == ActivityStatus.PUBLISHED
        again = _text(client.post(f"/activities/{draft.pk}/publish/", follow=True))
        assert "只有草稿可以发布" in again

    def test_finish_rate_evaluate_and_correct(self, cast, page_as):
        patrol = _activity(patrol_title())
        client = page_as("captain")
        client.post(f"/activities/{patrol.pk}/finish/")
        patrol.refresh_from_db()
        assert patrol.status == ActivityStatus.FINISHED
        text = _text(client.get(f"/activities/{patrol.pk}/console/"))
        assert "保存完成质量" in text and "提交评估" in text
        response = client.post(
            f"/activities/{patrol.pk}/evaluate/", {"effect": "good", "summary": "按计划完成"}
        )
        assert response.status_code == 400 and "异常签到未审核" in _text(response)
        assert 'value="good" selected' in _text(response) or "按计划完成" in _text(response)
        for checkin in services.pending_reviews(patrol):
            client.post(
                f"/activities/{patrol.pk}/checkins/{checkin.pk}/review/",
                {"decision": "accepted", "reason": "核实"},
            )
        confirmed = Participation.objects.filter(activity=patrol, status="confirmed")
        ratings = {f"quality_{p.member_id}": "good" for p in confirmed}
        client.post(f"/activities/{patrol.pk}/ratings/", ratings)
        assert not confirmed.filter(quality="").exists()
        response = client.post(
            f"/activities/{patrol.pk}/evaluate/", {"effect": "good", "summary": "按计划完成"}
        )
        assert response.status_code == 302
        patrol.refresh_from_db()
        assert patrol.status == ActivityStatus.EVALUATED
        text = _text(client.get(f"/activities/{patrol.pk}/console/"))
        assert "更正服务时长" in text and "按计划完成" in text
        member = Member.objects.get(user=cast.users["volunteer"])
        response = client.post(
            f"/activities/{patrol.pk}/hours/",
            {"member": member.pk, "hours": "99", "reason": "补录"},
        )
        assert response.status_code == 400 and "时长须在 0 到" in _text(response)
        response = client.post(
            f"/activities/{patrol.pk}/hours/",
            {"member": member.pk, "hours": "0.5", "reason": "提前离开，核对后更正"},
        )
        assert response.status_code == 302
        assert services.settled_hours(patrol)[member.pk] == Decimal("0.5")

    def test_console_bounded(self, cast, page_as, django_assert_max_num_queries):
        patrol = _activity(patrol_title())
        client = page_as("captain")
        client.get(f"/activities/{patrol.pk}/console/")
        with django_assert_max_num_queries(30):
            assert client.get(f"/activities/{patrol.pk}/console/").status_code == 200


class TestAttendance:
    def test_captain_lists_and_publishes(self, cast, page_as):
        client = page_as("captain")
        text = _text(client.get("/activities/attendance/"))
        notice = AttendanceNotice.objects.get(team=cast.units["hongfeng"])
        assert "红枫义警总队" in text and f"/public/attendance/{notice.public_id}/" in text
        month = f"{notice.month:%Y-%m}"
        response = client.post(
            "/activities/attendance/", {"team": cast.units["hongfeng"].pk, "month": month}
        )
        assert response.status_code == 302
        assert AttendanceNotice.objects.filter(team=cast.units["hongfeng"]).count() == 2
        this_month = f"{timezone.localdate():%Y-%m}"
        response = client.post(
            "/activities/attendance/", {"team": cast.units["hongfeng"].pk, "month": this_month}
        )
        assert "该月尚未结束" in _text(response) and f'value="{this_month}"' in _text(response)
        text = _text(
            client.post(
                "/activities/attendance/", {"team": cast.units["hongfeng"].pk, "month": "2026/10"}
            )
        )
        assert "月份格式应为“年-月”" in text

    @pytest.mark.parametrize("who", ["volunteer", "squad_leader", "auditor"])
    def test_others_are_refused(self, cast, page_as, who):
        assert page_as(who).get("/activities/attendance/").status_code == 403

    def test_list_bounded(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("captain")
        client.get("/activities/attendance/")
        with django_assert_max_num_queries(12):
            assert client.get("/activities/attendance/").status_code == 200

    def test_public_page_without_login_shows_masked_names_only(self, cast, client):
        notice = AttendanceNotice.objects.get(team=cast.units["hongfeng"])
        response = client.get(f"/public/attendance/{notice.public_id}/")
        assert response.status_code == 200
        text = _text(response)
        assert "红枫义警总队" in text and "考勤公示" in text
        assert f"{notice.month.year}年{notice.month.month}月" in text
        names = Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
        for member in names:
            assert member.name not in text.replace(member.name[0] + "*", "")
        assert "张*" in text
        assert "小时" in text and "次" in text
        assert client.get(f"/public/attendance/{uuid.uuid4()}/").status_code == 404

    def test_workbook_opens(self, cast, client):
        notice = AttendanceNotice.objects.get(team=cast.units["hongfeng"])
        response = client.get(f"/public/attendance/{notice.public_id}.xlsx")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in response["Content-Disposition"]
        sheet = load_workbook(BytesIO(response.content)).active
        assert "红枫义警总队" in sheet["A1"].value and "考勤公示" in sheet["A1"].value
        assert [c.value for c in sheet[3]] == [
            "序号",
            "姓名",
            "所在单位",
            "服务时长（小时）",
            "参加活动（次）",
        ]
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        assert len(rows) == len(notice.rows) + 1
        assert rows[-1][0] == "合计"
        assert rows[-1][3] == pytest.approx(float(notice.total_hours))
        assert "张三" not in {r[1] for r in rows}
        assert "张*" in {r[1] for r in rows}


def test_publishing_a_notice_is_offered_only_to_who_may(cast, page_as):
    assert "/activities/attendance/" in _text(page_as("captain").get("/activities/"))
    station = _text(page_as("station_officer").get("/activities/"))
    assert "/activities/attendance/" not in station


class TestConsoleNames:
    """5.7: the organiser console masked the names of the organiser's own team members."""

    def _names(self, client, activity):
        text = _squeezed(client.get(f"/activities/{activity.pk}/console/"))
        return text.split("<main")[1]

    def test_the_captain_sees_his_members_others_see_masks(self, cast, page_as, api_as):
        patrol = Activity.objects.get(title=patrol_title())
        people = [
            p.member
            for p in Participation.objects.filter(
                activity=patrol, status="confirmed"
            ).select_related("member")
        ]
        captain = self._names(page_as("captain"), patrol)
        assert all(m.name in captain for m in people)
        # (the captain's own name shows anyway: he published it, in the status history)
        others = [m for m in people if m.user_id != cast.users["captain"].pk]
        for who in ("station_officer", "county_admin"):  # organisers, not the team's leaders
            masked = self._names(page_as(who), patrol)
            assert not any(m.name in masked for m in others) and "*" in masked
        api = api_as("captain").get(f"/activities/{patrol.pk}/participants").json()
        assert {r["name"] for r in api} == {m.name for m in people}
        officer = api_as("station_officer").get(f"/activities/{patrol.pk}/participants").json()
        assert all("*" in r["name"] for r in officer)
        checkins = api_as("county_admin").get(f"/activities/{patrol.pk}/checkins").json()
        assert checkins and all("*" in r["member_name"] for r in checkins)

    def test_a_squad_leader_sees_his_squad(self, cast, page_as):
        squad = cast.units["hongfeng_squad1"]
        leader = cast.users["squad_leader"]
        activity = services.publish_activity(
            actor=leader,
            activity=services.create_activity(
                actor=leader,
                unit=squad,
                audience_unit=squad,
                data=services.ActivityData(
                    kind="patrol",
                    title="第一分队巡逻",
                    place="枫桥",
                    latitude=LAT,
                    longitude=LON,
                    starts_at=timezone.now() + timedelta(days=1),
                    ends_at=timezone.now() + timedelta(days=1, hours=2),
                    capacity=3,
                ),
            ),
        )
        people = list(services.eligible_members(activity).select_related("user")[:3])
        for member in people:
            services.sign_up(user=member.user, activity=activity)
        names = self._names(page_as("squad_leader"), activity)
        assert people and all(m.name in names for m in people)
