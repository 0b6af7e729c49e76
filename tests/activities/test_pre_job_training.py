"""Pre-job training (5.3.1; issue 15, 4.1): no task before it — but a 岗前培训 activity reaches
and admits the probationers who still lack it, tells them so, lets them sign up and check in,
and records the training on their file; any other training still needs it."""

import re
import uuid
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.models import Activity, ActivityStatus
from hongfeng.members.models import InsurancePolicy, Member, MemberStatus
from hongfeng.notices.models import Channel, Notice
from tests.conftest import ApiClient
from tests.support.activities import LAT, LON, api_body


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


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
        created = captain.post("/activities", api_body(cast, starts=starts, pre_job_training=True))
        assert created.status_code == 201, created.json()
        assert created.json()["pre_job_training"] is True
        aid = created.json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            assert captain.post(f"/activities/{aid}/publish").status_code == 200
        assert Notice.objects.filter(
            ref=f"activity:{aid}", recipient=probationer.user, channel=Channel.INBOX
        ).exists()
        api = ApiClient(probationer.user)
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
        aid = captain.post("/activities", api_body(cast, starts=starts)).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            captain.post(f"/activities/{aid}/publish")
        assert not Notice.objects.filter(ref=f"activity:{aid}", recipient=probationer.user)
        response = ApiClient(probationer.user).post(f"/activities/{aid}/signup")
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
            "/activities", api_body(cast, kind="patrol", pre_job_training=True)
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
            "risk_assessment": services.BUILTIN_RISK_ASSESSMENTS["training"],
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
