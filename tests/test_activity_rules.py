"""Issue 15, rules that contradicted the standard and what the volunteer's pages hid:

- 4.1 (5.3.1) a 岗前培训 activity reaches and admits the probationers who still lack it;
- 4.2 (5.4.7) every activity has a safety risk assessment: a default per association and kind,
  pre-filled in the form, used by the API when omitted, edited on the association's page;
- 5.5 the 可报名 list says why the volunteer cannot join each activity (or hides those), and the
  inbox shows where an answered broadcast stands instead of offering 报名 again;
- 5.7 the organiser console shows the team's own leaders their members' full names."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.demo import CURRENT_PATROL
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    Participation,
    RiskAssessmentDefault,
)
from hongfeng.audit.models import AuditEvent
from hongfeng.members.models import InsurancePolicy, Member, MemberStatus
from hongfeng.notices.models import Channel, Notice

LAT, LON = 29.6263, 120.3176
BUILTIN = services.BUILTIN_RISK_ASSESSMENTS


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _body(cast, **changes) -> dict:
    starts = changes.pop("starts", timezone.now() + timedelta(days=2))
    body = {
        "kind": "training",
        "title": "岗前培训第九期",
        "unit_id": cast.units["hongfeng"].pk,
        "place": "枫桥镇社区警校",
        "latitude": LAT,
        "longitude": LON,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=4)).isoformat(),
        "capacity": 30,
    }
    body.update(changes)
    return body


def _untrained_probationer(cast, day) -> Member:
    """A probationer of the 红枫 team without pre-job training, otherwise able to serve on
    `day` (demo data leaves a few of them)."""
    insured = InsurancePolicy.objects.filter(
        member=OuterRef("pk"), starts_on__lte=day, ends_on__gte=day
    )
    member = (
        Member.objects.filter(
            unit__path__startswith=cast.units["hongfeng"].path,
            status=MemberStatus.PROBATION,
            pre_job_training_on__isnull=True,
            health_fit=True,
        )
        .filter(Exists(insured))
        .select_related("user", "unit")
        .first()
    )
    assert member is not None, "the demo keeps probationers without pre-job training"
    return member


class TestPreJobTraining:
    """4.1, clause 5.3.1: no task before pre-job training — but the training itself is open."""

    def test_probationer_is_told_signs_up_and_checks_in(
        self, cast, api_as, django_capture_on_commit_callbacks
    ):
        starts = timezone.now() + timedelta(minutes=10)
        probationer = _untrained_probationer(cast, timezone.localdate(starts))
        captain = api_as("captain")
        created = captain.post("/activities", _body(cast, starts=starts, pre_job_training=True))
        assert created.status_code == 201, created.json()
        assert created.json()["pre_job_training"] is True
        aid = created.json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            assert captain.post(f"/activities/{aid}/publish").status_code == 200
        assert Notice.objects.filter(
            ref=f"activity:{aid}", recipient=probationer.user, channel=Channel.INBOX
        ).exists()
        api = api_as_user(probationer.user)
        assert api.get(f"/activities/{aid}/eligibility").json() == {
            "eligible": True,
            "reasons": [],
        }
        signed = api.post(f"/activities/{aid}/signup")
        assert signed.status_code == 200, signed.json()
        assert signed.json()["status"] == "confirmed"
        checked = api.post(
            f"/activities/{aid}/checkins",
            {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": LAT, "longitude": LON},
        )
        assert checked.status_code == 201, checked.json()

    def test_any_other_training_still_needs_it(
        self, cast, api_as, django_capture_on_commit_callbacks
    ):
        starts = timezone.now() + timedelta(days=2)
        probationer = _untrained_probationer(cast, timezone.localdate(starts))
        captain = api_as("captain")
        aid = captain.post("/activities", _body(cast, starts=starts)).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            captain.post(f"/activities/{aid}/publish")
        assert not Notice.objects.filter(ref=f"activity:{aid}", recipient=probationer.user)
        response = api_as_user(probationer.user).post(f"/activities/{aid}/signup")
        assert response.status_code == 422
        assert [r["code"] for r in response.json()["reasons"]] == ["pre_job_training_incomplete"]
        assert "岗前培训" in response.json()["reasons"][0]["message"]
        assert "5.3.1" not in response.json()["reasons"][0]["message"]  # volunteers read it

    def test_broadcast_audience_agrees_with_the_reasons(self, cast):
        activity = services.create_activity(
            actor=cast.users["captain"],
            unit=cast.units["hongfeng"],
            audience_unit=None,
            data=services.ActivityData(
                kind="training",
                title="岗前培训",
                place="警校",
                latitude=LAT,
                longitude=LON,
                starts_at=timezone.now() + timedelta(days=1),
                ends_at=timezone.now() + timedelta(days=1, hours=4),
                capacity=50,
                pre_job_training=True,
            ),
        )
        team = Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
        python = {
            m.pk
            for m in team.select_related("unit").prefetch_related(
                "skills", "insurances", "equipment"
            )
            if not services.eligibility(m, activity)
        }
        assert set(services.eligible_members(activity).values_list("pk", flat=True)) == python
        untrained = team.filter(pre_job_training_on__isnull=True).values_list("pk", flat=True)
        assert python & set(untrained)  # the point: some of them are reached

    def test_only_a_training_can_be_pre_job(self, cast, api_as):
        before = Activity.objects.count()
        response = api_as("captain").post(
            "/activities", _body(cast, kind="patrol", pre_job_training=True)
        )
        assert response.status_code == 400
        assert response.json()["code"] == "pre_job_not_training"
        assert Activity.objects.count() == before

    def test_form_marks_it_and_pages_show_it(self, cast, page_as):
        start = timezone.localtime() + timedelta(days=3)
        form = {
            "unit": cast.units["hongfeng"].pk,
            "audience_unit": "",
            "kind": "training",
            "pre_job_training": "on",
            "title": "岗前培训第十期",
            "place": "枫桥镇社区警校",
            "latitude": "29.6263",
            "longitude": "120.3176",
            "radius_m": "300",
            "starts_at": start.strftime("%Y-%m-%dT08:00"),
            "ends_at": start.strftime("%Y-%m-%dT12:00"),
            "capacity": "20",
            "waitlist_limit": "5",
            "difficulty": "normal",
            "risk_assessment": BUILTIN["training"],
            "publish": "1",
        }
        client = page_as("captain")
        assert "岗前培训" in _text(client.get("/activities/new/"))
        assert client.post("/activities/new/", form).status_code == 302
        activity = Activity.objects.get(title="岗前培训第十期")
        assert activity.pre_job_training and activity.status == ActivityStatus.PUBLISHED
        volunteer = page_as("volunteer")
        assert "岗前培训 · 见习队员可报名" in _text(volunteer.get("/activities/"))
        assert "岗前培训 · 见习队员可报名" in _text(volunteer.get(f"/activities/{activity.pk}/"))


def api_as_user(user):
    from tests.conftest import ApiClient

    return ApiClient(user)


class TestRiskAssessment:
    """4.2, clause 5.4.7: every activity has one, and writing it is cheap."""

    def _save(self, api, unit, kind, text, version=None):
        body = {"text": text} if version is None else {"text": text, "version": version}
        return api.put(f"/activity-risk-defaults/{unit.pk}/{kind}", body)

    def test_api_uses_the_nearest_associations_default_when_omitted(self, cast, api_as):
        city, county = cast.units["shaoxing"], cast.units["zhuji"]
        for who, unit, text in (
            ("city_admin", city, "市：人多"),
            ("county_admin", county, "县：防踩踏"),
        ):
            assert self._save(api_as(who), unit, "publicity", text).status_code == 200
        created = api_as("captain").post(
            "/activities", _body(cast, kind="publicity", title="反诈宣传")
        )
        assert created.json()["risk_assessment"] == "县：防踩踏"  # the nearest wins
        keqiao = api_as("sibling_captain").post(
            "/activities",
            _body(cast, kind="publicity", unit_id=cast.units["keqiao_team"].pk),
        )
        assert keqiao.json()["risk_assessment"] == "市：人多"  # its county has none
        care = api_as("captain").post("/activities", _body(cast, kind="care", title="探访"))
        assert care.json()["risk_assessment"] == BUILTIN["care"]  # nobody wrote one
        own = api_as("captain").post(
            "/activities", _body(cast, kind="care", risk_assessment="本次入户两人一组")
        )
        assert own.json()["risk_assessment"] == "本次入户两人一组"

    def test_publishing_without_any_assessment_is_refused(self, cast, api_as):
        api = api_as("captain")
        aid = api.post("/activities", _body(cast, risk_assessment="")).json()["id"]
        response = api.post(f"/activities/{aid}/publish")
        assert response.status_code == 400
        assert response.json()["code"] == "risk_assessment_required"
        assert Activity.objects.get(pk=aid).status == ActivityStatus.DRAFT

    def test_an_edit_that_omits_it_keeps_the_text(self, cast, api_as):
        api = api_as("captain")
        body = _body(cast, kind="care", risk_assessment="本次入户两人一组")
        aid = api.post("/activities", body).json()["id"]
        body.pop("risk_assessment")
        updated = api.put(f"/activities/{aid}", {**body, "capacity": 9})
        assert updated.json()["risk_assessment"] == "本次入户两人一组"

    def test_only_association_admins_in_reach_write_defaults(self, cast, api_as):
        county = cast.units["zhuji"]
        assert self._save(api_as("captain"), county, "patrol", "x").status_code == 404
        team = cast.units["hongfeng"]
        assert self._save(api_as("captain"), team, "patrol", "x").status_code == 400
        assert self._save(api_as("outsider"), county, "patrol", "x").status_code == 404
        assert self._save(api_as("county_admin"), county, "patrol", "").status_code == 422
        row = RiskAssessmentDefault.objects.get(association=county, kind="patrol")  # demo
        stale = self._save(api_as("county_admin"), county, "patrol", "新", version=row.version - 1)
        assert stale.status_code == 409
        row.refresh_from_db()
        assert row.text != "新"

    def test_defaults_readable_for_prefill(self, cast, api_as):
        rows = api_as("captain").get(f"/activity-risk-defaults?unit_id={cast.units['hongfeng'].pk}")
        by_kind = {r["kind"]: r for r in rows.json()}
        assert len(by_kind) == 10
        assert by_kind["patrol"]["source"]["name"] == "诸暨市义警协会"  # demo: the county's own
        assert by_kind["care"]["source"] is None and by_kind["care"]["text"] == BUILTIN["care"]

    def test_form_is_prefilled_for_kind_and_unit(self, cast, page_as):
        text = _text(page_as("captain").get("/activities/new/"))
        assert BUILTIN["risk_inspection"] in text  # the form's first kind
        assert "activity_risk.js" in text
        found = re.search(
            r'<script id="risk-defaults" type="application/json">(.*?)</script>', text
        )
        data = json.loads(found.group(1))  # what the script switches to per kind and unit
        county = cast.units["zhuji"]
        assert data["custom"][str(county.pk)]["patrol"] == (
            RiskAssessmentDefault.objects.get(association=county, kind="patrol").text
        )
        assert data["units"][str(cast.units["hongfeng"].pk)] == [county.pk]
        assert data["builtin"]["care"] == BUILTIN["care"]

    def test_page_edits_and_audits(self, cast, page_as):
        county = cast.units["zhuji"]
        client = page_as("county_admin")
        assert "风险评估模板" in _text(client.get("/activities/?tab=manage"))
        page = _text(client.get("/activities/risk-defaults/"))
        assert "诸暨市义警协会" in page and "本协会设定" in page and "系统内置" in page
        before = AuditEvent.objects.filter(action="activity.risk_default_saved").count()
        response = client.post(
            "/activities/risk-defaults/",
            {
                "association": county.pk,
                "kind": "care",
                "care-text": "入户两人以上，提前联系家属。",
                "care-version": "0",
            },
        )
        assert response.status_code == 302
        row = RiskAssessmentDefault.objects.get(association=county, kind="care")
        assert row.text == "入户两人以上，提前联系家属。"
        assert AuditEvent.objects.filter(action="activity.risk_default_saved").count() == before + 1
        stale = client.post(
            "/activities/risk-defaults/",
            {"association": county.pk, "kind": "care", "care-text": "覆盖", "care-version": "0"},
        )
        assert stale.status_code == 400 and "已被他人修改" in _text(stale)
        assert RiskAssessmentDefault.objects.get(pk=row.pk).text == "入户两人以上，提前联系家属。"
        empty = client.post(
            "/activities/risk-defaults/",
            {"association": county.pk, "kind": "care", "care-text": "", "care-version": "1"},
        )
        assert empty.status_code == 400 and 'id="id_care-text-error"' in _text(empty)

    @pytest.mark.parametrize(("who", "status"), [("captain", 403), ("volunteer", 403)])
    def test_page_refused_to_others(self, cast, page_as, who, status):
        assert page_as(who).get("/activities/risk-defaults/").status_code == status
        assert "风险评估模板" not in _text(page_as(who).get("/activities/?tab=open"))

    def test_page_out_of_reach_is_404(self, cast, page_as):
        zhuji = cast.units["zhuji"].pk
        url = "/activities/risk-defaults/?association="
        assert page_as("outsider").get(f"{url}{zhuji}").status_code == 404
        assert page_as("county_admin").get(f"{url}abc").status_code == 404
        city = page_as("city_admin").get(f"/activities/risk-defaults/?association={zhuji}")
        assert city.status_code == 200 and "安全风险评估模板 · 诸暨市义警协会" in _text(city)

    def test_every_demo_activity_carries_one(self, cast):
        assert not Activity.objects.filter(risk_assessment="").exists()

    def test_volunteer_reads_it_as_safety_notes(self, cast, page_as):
        care = Activity.objects.get(title="留守儿童课后陪伴")
        text = _text(page_as("volunteer").get(f"/activities/{care.pk}/"))
        assert "安全须知" in text and care.risk_assessment in text


HIGH_RISK = "枫桥江汛期应急协同处置"  # demo: core members only, high risk
CARE = "留守儿童课后陪伴"  # demo: open to 张三


def _patrol() -> str:
    """The demo's running patrol (张三 signed up), named after the hour the cast was built at."""
    return Activity.objects.get(title__in=CURRENT_PATROL).title


class TestOpenList:
    """5.5: the volunteer learns on the card why he cannot join, or sees only what he can."""

    def test_cards_carry_the_reasons(self, cast, page_as):
        text = _text(page_as("volunteer").get("/activities/?tab=open"))
        card = text[text.index(HIGH_RISK) : text.index("</a>", text.index(HIGH_RISK))]
        assert "暂不能报名" in card and "该活动仅限核心队员参加。" in card
        care = text[text.index(CARE) : text.index("</a>", text.index(CARE))]
        assert "暂不能报名" not in care
        patrol = text[text.index(_patrol()) : text.index("</a>", text.index(_patrol()))]
        assert "暂不能报名" not in patrol and "已报名" in patrol  # his own answer, not a reason

    def test_filter_shows_only_what_he_can_join(self, cast, page_as):
        text = _text(page_as("volunteer").get("/activities/?tab=open&joinable=1"))
        assert CARE in text
        assert HIGH_RISK not in text  # not eligible
        assert _patrol() not in text  # already signed up
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
            assert "加开巡逻5" in _text(client.get("/activities/?tab=open"))
        with django_assert_max_num_queries(len(few)):
            assert client.get("/activities/?tab=open&joinable=1").status_code == 200


class TestInboxAnswers:
    def test_answered_or_over_broadcasts_show_their_state(self, cast, page_as):
        user = cast.users["volunteer"]
        client = page_as("volunteer")
        text = _text(client.get("/inbox/"))

        def notice_html(title):
            notice = Notice.objects.get(
                recipient=user, channel=Channel.INBOX, title=f"新活动：{title}"
            )
            start = text.index(f'id="notice-{notice.pk}"')
            return text[start : text.index("</article>", start)]

        patrol = notice_html(_patrol())
        assert "已报名" in patrol and ">报名</button>" not in patrol and ">查看</button>" in patrol
        assert ">报名</button>" in notice_html(CARE)
        services.cancel_activity(
            actor=cast.users["captain"], activity=Activity.objects.get(title=CARE), reason="改期"
        )
        text = _text(client.get("/inbox/"))
        assert "活动已取消" in notice_html(CARE) and ">报名</button>" not in notice_html(CARE)

    def test_a_cancelled_sign_up_and_a_finished_activity(self, cast, page_as):
        user = cast.users["volunteer"]
        care = Activity.objects.get(title=CARE)
        services.sign_up(user=user, activity=care)
        services.cancel_sign_up(user=user, activity=care)
        Activity.objects.filter(title=_patrol()).update(status=ActivityStatus.FINISHED)
        Participation.objects.filter(activity__title=_patrol(), member__user=user).update(
            status="cancelled"
        )
        text = _text(page_as("volunteer").get("/inbox/"))
        assert "已取消报名" in text and "活动已结束" in text


class TestConsoleNames:
    """5.7: the organiser console masked the names of the organiser's own team members."""

    def _names(self, client, activity):
        text = _text(client.get(f"/activities/{activity.pk}/console/"))
        return text.split("<main")[1]

    def test_the_captain_sees_his_members_others_see_masks(self, cast, page_as, api_as):
        patrol = Activity.objects.get(title=_patrol())
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
