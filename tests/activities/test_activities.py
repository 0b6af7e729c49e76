"""Activities (issue 4): publishing and broadcast (4.5), eligibility with reasons (5.3.1,
5.4.3, 5.4.7), sign-up with capacity, waitlist and idempotency (5.2.3), check-in by GPS, QR,
offline batch and by the organiser (5.2.9), hours, ratings and evaluation (6.1.4), 公示."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from hongfeng.activities import qr, services
from hongfeng.activities.demo import CURRENT_PATROL
from hongfeng.activities.geo import haversine_m
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    AttendanceNotice,
    CheckIn,
    HoursEntry,
    Participation,
)
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import DomainError
from hongfeng.members.models import InsurancePolicy, Member
from hongfeng.notices.models import Channel, Notice
from tests.conftest import ApiClient
from tests.support.activities import LAT, LON, activity_data, published_activity


def _eligible_users(activity, n):
    return [
        m.user
        for m in services.eligible_members(activity).select_related("user").order_by("pk")[:n]
    ]


def _full(member_id):
    return (
        Member.objects.select_related("unit")
        .prefetch_related("skills", "insurances", "equipment")
        .get(pk=member_id)
    )


class TestPublishing:
    def test_captain_creates_and_publishes(self, cast, api_as, django_capture_on_commit_callbacks):
        api = api_as("captain")
        starts = timezone.now() + timedelta(days=1)
        body = {
            "kind": "publicity",
            "title": "反诈宣传",
            "unit_id": cast.units["hongfeng"].pk,
            "place": "枫桥农贸市场",
            "latitude": LAT,
            "longitude": LON,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "capacity": 10,
        }
        created = api.post("/activities", body)
        assert created.status_code == 201, created.json()
        assert created.json()["status"] == "draft"
        with django_capture_on_commit_callbacks(execute=True):
            published = api.post(f"/activities/{created.json()['id']}/publish")
        assert published.status_code == 200
        assert published.json()["status"] == "published"
        again = api.get(f"/activities/{created.json()['id']}")  # the broadcast ran after commit
        assert again.json()["notified_count"] > 0

    @pytest.mark.parametrize("difficulty", ["high_risk", "normal"])
    def test_every_activity_needs_a_risk_assessment(self, cast, difficulty):
        """5.4.7: not only high-risk ones — an assessment emptied on purpose is refused."""
        activity = services.create_activity(
            actor=cast.users["captain"],
            unit=cast.units["hongfeng"],
            audience_unit=None,
            data=activity_data(difficulty=difficulty, risk_assessment=" "),
        )
        with pytest.raises(DomainError) as error:
            services.publish_activity(actor=cast.users["captain"], activity=activity)
        assert error.value.code == "risk_assessment_required"
        activity.refresh_from_db()
        assert activity.status == ActivityStatus.DRAFT

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("latitude", 91, "invalid_input"),
            ("capacity", 0, "invalid_input"),
            ("radius_m", 5, "invalid_input"),
            ("kind", "party", "invalid_input"),
        ],
    )
    def test_bad_input_changes_nothing(self, cast, api_as, field, value, code):
        starts = timezone.now() + timedelta(days=1)
        body = {
            "kind": "patrol",
            "title": "x",
            "unit_id": cast.units["hongfeng"].pk,
            "place": "p",
            "latitude": LAT,
            "longitude": LON,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "capacity": 3,
            field: value,
        }
        before = Activity.objects.count()
        response = api_as("captain").post("/activities", body)
        assert response.status_code == 422
        assert response.json()["code"] == code
        assert Activity.objects.count() == before

    def test_end_before_start_refused(self, cast):
        with pytest.raises(DomainError) as error:
            services.create_activity(
                actor=cast.users["captain"],
                unit=cast.units["hongfeng"],
                audience_unit=None,
                data=activity_data(hours=-1),
            )
        assert error.value.code == "ends_before_start"

    def test_station_publishes_to_a_team_it_guides_not_another(self, cast):
        station = cast.users["station_officer"]
        activity = services.create_activity(
            actor=station,
            unit=cast.units["fengqiao"],
            audience_unit=cast.units["hongfeng"],
            data=activity_data(),
        )
        assert activity.audience_unit == cast.units["hongfeng"]
        with pytest.raises(DomainError):
            services.create_activity(
                actor=station,
                unit=cast.units["fengqiao"],
                audience_unit=cast.units["keqiao_team"],
                data=activity_data(),
            )

    def test_group_leader_cannot_publish(self, cast, api_as):
        starts = timezone.now() + timedelta(days=1)
        response = api_as("group_leader").post(
            "/activities",
            {
                "kind": "patrol",
                "title": "x",
                "unit_id": cast.units["hongfeng_group1"].pk,
                "place": "p",
                "latitude": LAT,
                "longitude": LON,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "capacity": 3,
            },
        )
        assert response.status_code == 403

    def test_cancel_tells_participants(self, cast, django_capture_on_commit_callbacks):
        activity = published_activity(cast, starts_at=timezone.now() + timedelta(days=2))
        users = _eligible_users(activity, 2)
        for user in users:
            services.sign_up(user=user, activity=activity)
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_activity(
                actor=cast.users["captain"], activity=activity, reason="天气原因"
            )
        told = Notice.objects.filter(ref=f"activity:{activity.pk}:cancelled", channel=Channel.INBOX)
        assert {n.recipient_id for n in told} == {u.pk for u in users}
        assert "天气原因" in told.first().body


class TestBroadcast:
    def test_notices_for_exactly_the_eligible_members(
        self, cast, django_capture_on_commit_callbacks
    ):
        """4.5: the SQL recipients equal the members for whom `eligibility` finds no reason."""
        team = cast.units["hongfeng"]
        with django_capture_on_commit_callbacks(execute=True):
            activity = published_activity(cast)
        expected = {
            m.user_id
            for m in Member.objects.filter(unit__path__startswith=team.path)
            if not services.eligibility(_full(m.pk), activity)
        }
        assert expected
        inbox = set(
            Notice.objects.filter(ref=f"activity:{activity.pk}", channel=Channel.INBOX).values_list(
                "recipient_id", flat=True
            )
        )
        assert inbox == expected
        sms = Notice.objects.filter(ref=f"activity:{activity.pk}", channel=Channel.SMS)
        assert sms.count() == len(expected)
        assert set(sms.values_list("status", flat=True)) == {"sent"}  # the log channel delivered
        activity.refresh_from_db()
        assert activity.notified_count == len(expected)

    def test_rerun_adds_nothing(self, cast, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            activity = published_activity(cast)
        before = Notice.objects.count()
        services.run_broadcast(activity.pk)
        assert Notice.objects.count() == before

    def test_high_risk_audience_agrees_with_reasons(self, cast):
        activity = services.create_activity(
            actor=cast.users["captain"],
            unit=cast.units["hongfeng"],
            audience_unit=None,
            data=activity_data(
                difficulty="high_risk", risk_assessment="两人一组", required_skills=["first_aid"]
            ),
        )
        team = cast.units["hongfeng"]
        sql = set(services.eligible_members(activity).values_list("pk", flat=True))
        python = {
            m.pk
            for m in Member.objects.filter(unit__path__startswith=team.path)
            if not services.eligibility(_full(m.pk), activity)
        }
        assert sql == python


class TestEligibility:
    def test_reasons_name_each_failing_condition(self, cast):
        activity = published_activity(
            cast, difficulty="high_risk", risk_assessment="两人一组", required_skills=["drone"]
        )
        zhangsan = Member.objects.get(user=cast.users["volunteer"])
        Member.objects.filter(pk=zhangsan.pk).update(pre_job_training_on=None)
        InsurancePolicy.objects.filter(member=zhangsan).delete()
        codes = {r.code for r in services.eligibility(_full(zhangsan.pk), activity)}
        assert codes == {
            "pre_job_training_incomplete",
            "insurance_not_valid",
            "missing_required_skill",
            "missing_protective_equipment",
        }

    def test_outside_audience_and_suspended(self, cast):
        activity = published_activity(cast, audience=cast.units["hongfeng_squad2"])
        zhangsan = Member.objects.get(user=cast.users["volunteer"])
        Member.objects.filter(pk=zhangsan.pk).update(status="suspended")
        codes = [r.code for r in services.eligibility(_full(zhangsan.pk), activity)]
        assert "not_in_audience" in codes and "not_serving" in codes

    def test_api_shows_reasons_and_signup_refused(self, cast, api_as):
        activity = published_activity(cast, core_only=True)
        api = api_as("volunteer")  # 张三 is active, not core
        answer = api.get(f"/activities/{activity.pk}/eligibility").json()
        assert answer["eligible"] is False
        assert [r["code"] for r in answer["reasons"]] == ["core_only"]
        response = api.post(f"/activities/{activity.pk}/signup")
        assert response.status_code == 422
        assert response.json()["code"] == "not_eligible"
        assert response.json()["reasons"][0]["code"] == "core_only"
        assert not Participation.objects.filter(activity=activity).exists()


class TestSignUp:
    def test_capacity_waitlist_and_promotion(self, cast, django_capture_on_commit_callbacks):
        activity = published_activity(
            cast, capacity=2, waitlist_limit=1, starts_at=timezone.now() + timedelta(days=1)
        )
        users = _eligible_users(activity, 4)
        answers = [services.sign_up(user=u, activity=activity).status for u in users[:3]]
        assert answers == ["confirmed", "confirmed", "waitlisted"]
        with pytest.raises(DomainError) as error:
            services.sign_up(user=users[3], activity=activity)
        assert error.value.code == "activity_full"
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_sign_up(user=users[0], activity=activity)
        activity.refresh_from_db()
        assert (activity.confirmed_count, activity.waitlist_count) == (2, 0)
        promoted = Participation.objects.get(activity=activity, member__user=users[2])
        assert promoted.status == "confirmed"
        assert Notice.objects.filter(
            recipient=users[2], kind="activity_promoted", channel=Channel.INBOX
        ).exists()

    def test_signing_up_twice_returns_the_same_place(self, cast):
        activity = published_activity(cast)
        user = _eligible_users(activity, 1)[0]
        first = services.sign_up(user=user, activity=activity)
        again = services.sign_up(user=user, activity=activity)
        assert first.pk == again.pk
        activity.refresh_from_db()
        assert activity.confirmed_count == 1

    def test_idempotency_key_replays_the_first_answer(self, cast):
        activity = published_activity(
            cast, capacity=1, waitlist_limit=0, starts_at=timezone.now() + timedelta(days=1)
        )
        user = _eligible_users(activity, 1)[0]
        api = ApiClient(user)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = api.post(f"/activities/{activity.pk}/signup", headers=key)
        assert first.status_code == 200 and first.json()["status"] == "confirmed"
        assert "Idempotent-Replayed" not in first.headers
        events = AuditEvent.objects.count()
        cancelled = api.post(
            f"/activities/{activity.pk}/signup/cancel",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert cancelled.json()["status"] == "cancelled"
        replay = api.post(f"/activities/{activity.pk}/signup", headers=key)
        assert replay.status_code == 200
        assert replay.json() == first.json()  # the original answer, not a new sign-up
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert Participation.objects.get(activity=activity).status == "cancelled"
        assert AuditEvent.objects.count() == events + 1  # only the cancellation

    def test_idempotency_key_on_another_request_refused(self, cast):
        activity = published_activity(cast)
        other = published_activity(cast, title="另一个")
        api = ApiClient(_eligible_users(activity, 1)[0])
        key = {"Idempotency-Key": "retry-key-0001"}
        assert api.post(f"/activities/{activity.pk}/signup", headers=key).status_code == 200
        response = api.post(f"/activities/{other.pk}/signup", headers=key)
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_reused"
        assert not Participation.objects.filter(activity=other).exists()

    def test_bad_idempotency_key(self, cast):
        activity = published_activity(cast)
        api = ApiClient(_eligible_users(activity, 1)[0])
        response = api.post(f"/activities/{activity.pk}/signup", headers={"Idempotency-Key": "x"})
        assert response.json()["code"] == "invalid_idempotency_key"

    def test_outsider_cannot_see_or_join(self, cast, api_as):
        activity = published_activity(cast)
        for key in ("outsider", "sibling_captain", "outside_captain"):
            assert api_as(key).post(f"/activities/{activity.pk}/signup").status_code == 404
            assert api_as(key).get(f"/activities/{activity.pk}").status_code == 404

    def test_decline_is_recorded_and_counted(self, cast, api_as):
        activity = published_activity(cast)
        response = api_as("volunteer").post(f"/activities/{activity.pk}/decline")
        assert response.json()["status"] == "declined"
        counts = api_as("captain").get(f"/activities/{activity.pk}/counts").json()
        assert counts["declined"] == 1 and counts["confirmed"] == 0


def _joined(cast, **overrides):
    activity = published_activity(cast, **overrides)
    user = cast.users["volunteer"]
    services.sign_up(user=user, activity=activity)
    return activity, user


def _gps(kind="in", lat=LAT, lon=LON, **extra):
    return services.CheckInData(
        kind=kind, client_id=uuid.uuid4(), latitude=lat, longitude=lon, accuracy_m=10, **extra
    )


def _far_activity_joined(cast, user, *, started):
    """An activity in Hangzhou (about 50 km from the others) that `user` has joined."""
    far = published_activity(
        cast, title="杭州", latitude=30.25, longitude=120.15, starts_at=started
    )
    services.sign_up(user=user, activity=far)
    return far


def _north(metres):
    """A latitude `metres` north of the activity (1° ≈ 111.195 km on the mean sphere)."""
    return LAT + metres / 111_195.08


class TestGeofence:
    def test_inside_the_fence(self, cast):
        activity, user = _joined(cast)
        checkin, created = services.check_in(
            user=user, activity=activity, data=_gps(lat=_north(199))
        )
        assert created and not checkin.flagged
        assert 198 < checkin.distance_m < 200

    def test_just_outside_is_refused_and_changes_nothing(self, cast, api_as):
        activity, _user = _joined(cast)
        assert haversine_m(LAT, LON, _north(201), LON) > 200
        response = api_as("volunteer").post(
            f"/activities/{activity.pk}/checkins",
            {
                "kind": "in",
                "client_id": str(uuid.uuid4()),
                "latitude": _north(201),
                "longitude": LON,
            },
        )
        assert response.status_code == 422
        assert response.json()["code"] == "outside_geofence"
        assert not CheckIn.objects.filter(activity=activity).exists()

    def test_outside_with_review_is_flagged_not_dropped(self, cast):
        activity, user = _joined(cast)
        checkin, _ = services.check_in(
            user=user, activity=activity, data=_gps(lat=_north(900), allow_review=True)
        )
        assert checkin.flagged and checkin.flags == ["outside_fence"]

    @pytest.mark.parametrize(("lat", "lon"), [(90.5, LON), (LAT, 181), (LAT, -180.01)])
    def test_coordinates_out_of_range(self, cast, api_as, lat, lon):
        activity, _user = _joined(cast)
        response = api_as("volunteer").post(
            f"/activities/{activity.pk}/checkins",
            {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": lat, "longitude": lon},
        )
        assert response.status_code == 422
        assert not CheckIn.objects.filter(activity=activity).exists()

    def test_duplicate_check_in_refused_retry_returned(self, cast, api_as):
        activity, _user = _joined(cast)
        api = api_as("volunteer")
        body = {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": LAT, "longitude": LON}
        first = api.post(f"/activities/{activity.pk}/checkins", body)
        assert first.status_code == 201
        retry = api.post(f"/activities/{activity.pk}/checkins", body)
        assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
        again = api.post(
            f"/activities/{activity.pk}/checkins", {**body, "client_id": str(uuid.uuid4())}
        )
        assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
        assert CheckIn.objects.filter(activity=activity).count() == 1

    def test_the_answer_is_the_response_schemas_json(self, cast, api_as):
        """The check-in's answer is built without the schema (activities.api._checkin_body,
        the hot path): it must be exactly what CheckInOut renders, flagged record included."""
        from hongfeng.activities.api import CheckInOut

        activity, _user = _joined(cast)
        body = {
            "kind": "in",
            "client_id": str(uuid.uuid4()),
            "latitude": _north(900),
            "longitude": LON,
            "accuracy_m": 12.5,
            "allow_review": True,
        }
        answer = api_as("volunteer").post(f"/activities/{activity.pk}/checkins", body).json()
        record = CheckIn.objects.get(pk=answer["id"])
        expected = CheckInOut(
            id=record.pk,
            activity_id=record.activity_id,
            kind=record.kind,
            method=record.method,
            method_label=record.get_method_display(),
            client_id=record.client_id,
            at=record.at,
            offline=record.offline,
            distance_m=record.distance_m,
            accuracy_m=record.accuracy_m,
            flags=record.flags,
            flag_labels=record.flag_labels(),
            flagged=record.flagged,
        ).model_dump(mode="json")
        assert answer == expected
        assert answer["flagged"] and answer["flag_labels"] and answer["at"].endswith("Z")

    def test_outside_the_time_window(self, cast):
        activity, user = _joined(cast, starts_at=timezone.now() + timedelta(hours=2))
        with pytest.raises(DomainError) as error:
            services.check_in(user=user, activity=activity, data=_gps())
        assert error.value.code == "outside_time_window"

    def test_waitlisted_member_cannot_check_in(self, cast):
        activity = published_activity(cast, capacity=1)
        first, second = _eligible_users(activity, 2)
        services.sign_up(user=first, activity=activity)
        services.sign_up(user=second, activity=activity)
        with pytest.raises(DomainError) as error:
            services.check_in(user=second, activity=activity, data=_gps())
        assert error.value.code == "not_signed_up"

    def test_impossible_speed_flagged(self, cast):
        activity, user = _joined(cast)
        far = _far_activity_joined(cast, user, started=timezone.now() - timedelta(minutes=5))
        services.check_in(user=user, activity=far, data=_gps(lat=30.25, lon=120.15))
        checkin, _ = services.check_in(user=user, activity=activity, data=_gps())
        assert "impossible_speed" in checkin.flags

    def test_speed_judged_from_the_latest_record_not_an_older_one_elsewhere(self, cast):
        """The previous record for the speed check is the member's latest up to now: a record
        far away in another activity, older than their check-in here, does not flag the
        check-out here."""
        activity, user = _joined(cast)
        far = _far_activity_joined(cast, user, started=timezone.now() - timedelta(hours=2))
        with time_machine.travel(timezone.now() - timedelta(hours=1, minutes=50), tick=False):
            services.check_in(user=user, activity=far, data=_gps(lat=30.25, lon=120.15))
        services.check_in(user=user, activity=activity, data=_gps())
        out, _ = services.check_in(user=user, activity=activity, data=_gps(kind="out"))
        assert out.flags == []

    def test_clock_skew_flagged(self, cast):
        activity, user = _joined(cast)
        checkin, _ = services.check_in(
            user=user,
            activity=activity,
            data=_gps(device_time=timezone.now() - timedelta(minutes=20)),
        )
        assert checkin.flags == ["clock_skew"]


class TestQr:
    def test_scan_current_code(self, cast):
        activity, user = _joined(cast)
        token = qr.token_for(activity.pk, timezone.now())
        data = services.CheckInData(kind="in", client_id=uuid.uuid4(), qr_token=token)
        checkin, created = services.check_in(user=user, activity=activity, data=data)
        assert created and checkin.method == "qr" and not checkin.flagged

    def test_expired_code(self, cast):
        activity, user = _joined(cast)
        token = qr.token_for(activity.pk, timezone.now() - timedelta(seconds=61))
        with pytest.raises(DomainError) as error:
            services.check_in(
                user=user,
                activity=activity,
                data=services.CheckInData(kind="in", client_id=uuid.uuid4(), qr_token=token),
            )
        assert error.value.code == "qr_expired"

    def test_previous_window_still_accepted(self):
        moment = timezone.now()
        token = qr.token_for(7, moment - timedelta(seconds=qr.WINDOW_SECONDS))
        qr.check(token, activity_id=7, scanned_at=moment)

    @pytest.mark.parametrize("mangle", ["swap_mac", "other_window", "garbage"])
    def test_forged_code(self, cast, mangle):
        activity, user = _joined(cast)
        token = qr.token_for(activity.pk, timezone.now())
        prefix, act, window, mac = token.split(".")
        forged = {
            "swap_mac": f"{prefix}.{act}.{window}.{mac[::-1]}",
            "other_window": f"{prefix}.{act}.{int(window) + 1}.{mac}",
            "garbage": "HFQR.not.a.token",
        }[mangle]
        with pytest.raises(DomainError) as error:
            services.check_in(
                user=user,
                activity=activity,
                data=services.CheckInData(kind="in", client_id=uuid.uuid4(), qr_token=forged),
            )
        assert error.value.code == "qr_forged"
        assert not CheckIn.objects.filter(activity=activity).exists()

    def test_code_of_another_activity(self, cast):
        activity, user = _joined(cast)
        token = qr.token_for(activity.pk + 1000, timezone.now())
        with pytest.raises(DomainError) as error:
            services.check_in(
                user=user,
                activity=activity,
                data=services.CheckInData(kind="in", client_id=uuid.uuid4(), qr_token=token),
            )
        assert error.value.code in ("qr_wrong_activity", "qr_forged")

    def test_qr_endpoint_only_for_organisers(self, cast, api_as):
        activity, _user = _joined(cast)
        assert api_as("captain").get(f"/activities/{activity.pk}/qr").status_code == 200
        assert api_as("volunteer").get(f"/activities/{activity.pk}/qr").status_code == 403


class TestOffline:
    def test_batch_synced_twice_stores_each_record_once(self, cast, api_as):
        activity, _user = _joined(cast, starts_at=timezone.now() - timedelta(minutes=50))
        scanned = timezone.now() - timedelta(minutes=40)
        token = qr.token_for(activity.pk, scanned)
        items = [
            {
                "activity_id": activity.pk,
                "kind": "in",
                "client_id": str(uuid.uuid4()),
                "device_time": scanned.isoformat(),
                "qr_token": token,
            },
            {
                "activity_id": activity.pk,
                "kind": "out",
                "client_id": str(uuid.uuid4()),
                "device_time": (scanned + timedelta(minutes=30)).isoformat(),
                "latitude": LAT,
                "longitude": LON,
            },
        ]
        api = api_as("volunteer")
        batch = {"sent_at": timezone.now().isoformat(), "items": items}
        first = api.post("/checkins/sync", batch).json()
        assert [r["created"] for r in first] == [True, True], first
        again = api.post("/checkins/sync", {**batch, "items": items + items}).json()
        assert all(r["ok"] and not r["created"] for r in again)
        rows = CheckIn.objects.filter(activity=activity).order_by("at")
        assert rows.count() == 2
        assert rows[0].offline and abs(rows[0].at - scanned) < timedelta(seconds=2)

    def test_a_retry_gets_its_record_even_when_it_would_now_be_refused(self, cast):
        """A record stored from an offline batch, re-sent four days later (past the three-day
        limit for new offline records): the stored record is the answer, not a refusal."""
        activity, user = _joined(cast, starts_at=timezone.now() - timedelta(minutes=50))
        data = services.CheckInData(
            kind="in",
            client_id=uuid.uuid4(),
            device_time=timezone.now() - timedelta(minutes=40),
            latitude=LAT,
            longitude=LON,
        )
        [stored] = services.sync_offline(
            user=user, sent_at=timezone.now(), items=[(activity, data)]
        )
        assert stored.created
        with time_machine.travel(timezone.now() + timedelta(days=4), tick=False):
            fresh = services.CheckInData(**{**data.__dict__, "client_id": uuid.uuid4()})
            [again, new] = services.sync_offline(
                user=user, sent_at=timezone.now(), items=[(activity, data), (activity, fresh)]
            )
        assert again.error is None and not again.created
        assert again.checkin.pk == stored.checkin.pk
        assert new.error.code == "offline_too_old"
        assert CheckIn.objects.filter(activity=activity).count() == 1

    def test_expired_qr_judged_by_scan_time(self, cast):
        """A code scanned offline 40 minutes ago was current then: accepted. One scanned at a
        time it was not current is refused, with an answer for that record only."""
        activity, user = _joined(cast, starts_at=timezone.now() - timedelta(minutes=50))
        scanned = timezone.now() - timedelta(minutes=40)
        good = services.CheckInData(
            kind="in",
            client_id=uuid.uuid4(),
            device_time=scanned,
            qr_token=qr.token_for(activity.pk, scanned),
        )
        stale = services.CheckInData(
            kind="out",
            client_id=uuid.uuid4(),
            device_time=scanned + timedelta(minutes=5),
            qr_token=qr.token_for(activity.pk, scanned),
        )
        results = services.sync_offline(
            user=user, sent_at=timezone.now(), items=[(activity, good), (activity, stale)]
        )
        assert results[0].created
        assert results[1].error.code == "qr_expired"

    def test_wrong_phone_clock_corrected_and_flagged(self, cast):
        activity, user = _joined(cast, starts_at=timezone.now() - timedelta(minutes=50))
        skew = timedelta(hours=2)  # the phone is two hours slow
        happened = timezone.now() - timedelta(minutes=10)
        data = services.CheckInData(
            kind="in",
            client_id=uuid.uuid4(),
            device_time=happened - skew,
            latitude=LAT,
            longitude=LON,
        )
        [result] = services.sync_offline(
            user=user, sent_at=timezone.now() - skew, items=[(activity, data)]
        )
        assert "clock_skew" in result.checkin.flags
        assert abs(result.checkin.at - happened) < timedelta(seconds=5)

    def test_offline_outside_fence_flagged_not_refused(self, cast):
        activity, user = _joined(cast, starts_at=timezone.now() - timedelta(minutes=50))
        data = services.CheckInData(
            kind="in",
            client_id=uuid.uuid4(),
            device_time=timezone.now() - timedelta(minutes=5),
            latitude=_north(2000),
            longitude=LON,
        )
        [result] = services.sync_offline(
            user=user, sent_at=timezone.now(), items=[(activity, data)]
        )
        assert result.checkin.flags == ["outside_fence"]


class TestHours:
    def test_hours_clipped_auto_checkout_review_evaluate_correct(self, cast, api_as):
        start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
        activity, user = _joined(cast, starts_at=start, hours=2)
        captain = cast.users["captain"]
        member = Member.objects.get(user=user)
        with time_machine.travel(start - timedelta(minutes=20), tick=False):
            services.check_in(user=user, activity=activity, data=_gps())
        with time_machine.travel(start + timedelta(hours=3), tick=False):  # forgot to check out
            counts = services.sweep_activities()
            assert counts["finished"] >= 1 and counts["checked_out"] >= 1
            assert services.sweep_activities()["checked_out"] == 0  # idempotent
            # the check-in and the sweep each moved the place's version on once: a check-in
            # judged before the sweep is judged again after it
            assert Participation.objects.get(activity=activity).checkin_version == 2
            auto = CheckIn.objects.get(activity=activity, kind="out")
            assert (
                auto.method == "auto"
                and auto.flags == ["auto_checkout"]
                and auto.at == activity.ends_at
            )
            activity.refresh_from_db()
            assert services.computed_hours(activity) == {
                member.pk: Decimal("2.00")
            }  # clipped to the window
            with pytest.raises(DomainError) as error:
                services.evaluate_activity(
                    actor=captain, activity=activity, effect="good", summary="按计划完成"
                )
            assert error.value.code == "reviews_pending"
            services.review_check_in(
                actor=captain, checkin=auto, decision="accepted", reason="现场确认在岗至结束"
            )
            with pytest.raises(DomainError) as error:
                services.evaluate_activity(
                    actor=captain, activity=activity, effect="good", summary="按计划完成"
                )
            assert error.value.code == "ratings_missing"
            api = api_as("captain")
            rated = api.put(
                f"/activities/{activity.pk}/ratings",
                {"ratings": [{"member_id": member.pk, "quality": "excellent"}]},
            )
            assert rated.status_code == 200, rated.json()
            evaluated = api.post(
                f"/activities/{activity.pk}/evaluate", {"effect": "good", "summary": "按计划完成"}
            )
            assert evaluated.status_code == 200, evaluated.json()
            assert evaluated.json()["status"] == "evaluated"
            entry = HoursEntry.objects.get(activity=activity, member=member)
            assert entry.hours == Decimal("2.00") and entry.source == "checkins"
            corrected = api.post(
                f"/activities/{activity.pk}/hours/corrections",
                {"member_id": member.pk, "hours": "1.5", "reason": "中途离开半小时"},
            )
            assert corrected.status_code == 201, corrected.json()
            assert corrected.json()["hours"] == "-0.50"
            assert services.settled_hours(activity) == {member.pk: Decimal("1.50")}
            too_many = api.post(
                f"/activities/{activity.pk}/hours/corrections",
                {"member_id": member.pk, "hours": "5", "reason": "x"},
            )
            assert too_many.status_code == 400 and too_many.json()["code"] == "invalid_hours"
            assert HoursEntry.objects.filter(activity=activity).count() == 2

    def test_rejected_record_does_not_count(self, cast):
        start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
        activity, user = _joined(cast, starts_at=start, hours=2)
        with time_machine.travel(start + timedelta(minutes=30), tick=False):
            checkin, _ = services.check_in(
                user=user, activity=activity, data=_gps(lat=_north(500), allow_review=True)
            )
        with time_machine.travel(start + timedelta(minutes=90), tick=False):
            services.check_in(user=user, activity=activity, data=_gps(kind="out"))
            member = Member.objects.get(user=user)
            assert services.computed_hours(activity) == {member.pk: Decimal("1.00")}
            services.review_check_in(
                actor=cast.users["captain"], checkin=checkin, decision="rejected", reason="不在现场"
            )
            assert services.computed_hours(activity) == {member.pk: Decimal("0.00")}

    def test_manual_check_in_needs_reason_and_is_audited(self, cast, api_as):
        activity, user = _joined(cast)
        member = Member.objects.get(user=user)
        api = api_as("captain")
        missing = api.post(
            f"/activities/{activity.pk}/checkins/manual",
            {"member_id": member.pk, "kind": "in", "reason": ""},
        )
        assert missing.status_code == 422
        done = api.post(
            f"/activities/{activity.pk}/checkins/manual",
            {"member_id": member.pk, "kind": "in", "reason": "手机没电"},
        )
        assert done.status_code == 201, done.json()
        assert done.json()["method"] == "manual"
        assert AuditEvent.objects.filter(action="activity.manual_check_in").exists()
        assert (
            api_as("volunteer")
            .post(
                f"/activities/{activity.pk}/checkins/manual",
                {"member_id": member.pk, "kind": "out", "reason": "x"},
            )
            .status_code
            == 403
        )


class TestAttendanceNotice:
    def test_demo_notice_is_public_and_masked(self, cast, anon_api):
        notice = AttendanceNotice.objects.get(team=cast.units["hongfeng"])
        response = anon_api.get(f"/public/attendance/{notice.public_id}")
        assert response.status_code == 200
        body = response.json()
        names = {
            m.name
            for m in Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
        }
        assert body["rows"] and all(
            row["name"] not in names for row in body["rows"] if len(row["name"]) > 1
        )
        assert any("*" in row["name"] for row in body["rows"])
        assert Decimal(body["total_hours"]) > 0

    def test_captain_publishes_station_cannot(self, cast, api_as):
        month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        team = cast.units["hongfeng"].pk
        response = api_as("captain").post("/attendance-notices", {"team_id": team, "month": month})
        assert response.status_code == 201, response.json()
        assert response.json()["version"] == 2  # the demo published version 1
        body = {"team_id": team, "month": month}
        # the station sees the team (属地管理) but does not publish its 公示
        assert api_as("station_officer").post("/attendance-notices", body).status_code == 403
        assert api_as("squad_leader").post("/attendance-notices", body).status_code == 404
        assert (
            api_as("outsider")
            .post("/attendance-notices", {"team_id": team, "month": month})
            .status_code
            == 404
        )

    def test_month_not_over(self, cast, api_as):
        month = timezone.localdate().strftime("%Y-%m")
        response = api_as("captain").post(
            "/attendance-notices", {"team_id": cast.units["hongfeng"].pk, "month": month}
        )
        assert response.status_code == 400 and response.json()["code"] == "month_not_over"


class TestDemo:
    def test_every_kind_and_state_is_shown(self, cast):
        from hongfeng.activities.models import ActivityKind

        kinds = set(Activity.objects.values_list("kind", flat=True))
        assert kinds == set(ActivityKind.values)
        states = set(Activity.objects.values_list("status", flat=True))
        assert {"draft", "published", "in_progress", "evaluated", "cancelled"} <= states | {
            "in_progress"
        }
        assert CheckIn.objects.filter(flagged=True).exists()
        assert HoursEntry.objects.exists()

    def test_list_queries_are_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("captain")
        with django_assert_max_num_queries(8):
            response = api.get("/activities")
        assert response.status_code == 200 and response.json()["count"] >= 10

    def test_volunteer_sees_own_units_only(self, cast, api_as):
        titles = {
            a["title"]
            for a in api_as("volunteer").get("/activities", {"page_size": 100}).json()["items"]
        }
        assert "柯岩景区周末巡逻" not in titles
        assert titles & set(CURRENT_PATROL)
        assert not any("草稿" in t for t in titles)


class TestMemberFile:
    def test_service_record_on_the_file_and_training_endpoint(self, cast, api_as):
        zhangsan = Member.objects.get(user=cast.users["volunteer"])
        body = api_as("volunteer").get("/members/me").json()
        settled = sum(HoursEntry.objects.filter(member=zhangsan).values_list("hours", flat=True))
        assert Decimal(body["service_hours"]) == settled
        assert body["pre_job_training_on"] is not None
        api = api_as("captain")
        cleared = api.post(f"/members/{zhangsan.pk}/pre-job-training", {"completed_on": None})
        assert cleared.status_code == 200 and cleared.json()["pre_job_training_on"] is None
        future = api.post(
            f"/members/{zhangsan.pk}/pre-job-training", {"completed_on": "2999-01-01"}
        )
        assert future.status_code == 400 and future.json()["code"] == "date_in_future"
        refused = api_as("volunteer").post(
            f"/members/{zhangsan.pk}/pre-job-training", {"completed_on": None}
        )
        assert refused.status_code == 403

    def test_file_page_shows_hours(self, cast, page_as):
        zhangsan = Member.objects.get(user=cast.users["volunteer"])
        text = page_as("captain").get(f"/members/{zhangsan.pk}/").content.decode()
        assert "累计服务时长" in text and "岗前培训" in text


def test_raising_capacity_promotes_the_waitlist(cast, django_capture_on_commit_callbacks):
    activity = published_activity(cast, capacity=1, starts_at=timezone.now() + timedelta(days=1))
    first, second, third = _eligible_users(activity, 3)
    for user in (first, second, third):
        services.sign_up(user=user, activity=activity)
    data = activity_data(capacity=2, starts_at=activity.starts_at, hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        activity = services.update_activity(
            actor=cast.users["captain"], activity=activity, audience_unit=None, data=data
        )
    assert (activity.confirmed_count, activity.waitlist_count) == (2, 1)
    assert Participation.objects.get(activity=activity, member__user=second).status == "confirmed"
    assert Participation.objects.get(activity=activity, member__user=third).status == "waitlisted"
    assert Notice.objects.filter(recipient=second, kind="activity_promoted").exists()


def test_a_lost_broadcast_is_sent_by_the_sweep(cast, django_capture_on_commit_callbacks):
    """T9: the worker died before the broadcast ran (its on-commit enqueue never happened) — the
    sweep queues it again after the grace period, and a second sweep adds nothing."""
    activity = published_activity(cast)  # on-commit callbacks are not run here: the task is "lost"
    ref = f"activity:{activity.pk}"
    assert not Notice.objects.filter(ref=ref).exists()
    assert services.sweep_activities()["rebroadcast"] == 0  # still within the grace period
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.sweep_activities()["rebroadcast"] == 1
        sent = Notice.objects.filter(ref=ref).count()
        assert sent > 0
        assert services.sweep_activities()["rebroadcast"] == 0
    assert Notice.objects.filter(ref=ref).count() == sent


def test_sweep_command_runs_once(cast):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sweep", stdout=out)
    assert "started=" in out.getvalue() and "rebroadcast=" in out.getvalue()


def test_notice_refs_fit_and_repeat_notices_are_not_sent_twice(cast):
    """A waitlist promotion on activity and member ids of any realistic size fits the ref
    column (PostgreSQL enforces its length), and the same notice asked twice is sent once."""
    from hongfeng.notices.services import notify_all

    user = cast.users["volunteer"]
    ref = f"activity:{10**12}:promoted:{10**12}"
    for _ in range(2):
        notify_all(user=user, kind="activity_promoted", title="候补成功", body="b", ref=ref)
    assert Notice.objects.filter(ref=f"{ref}:activity_promoted").count() == 3  # inbox, SMS, WeChat


def test_a_check_in_judged_again_too_often_is_refused(cast, monkeypatch):
    """5.2.9: a record that keeps finding its place's version moved on (others stored for the
    same member each time) is refused with a stable code after a few attempts — nothing
    stored, nothing looped on forever."""
    from hongfeng.activities.services import checkins

    activity, user = _joined(cast)
    attempts = []

    def busy(place, checkin, event):
        attempts.append(place.version)
        raise checkins._Busy

    monkeypatch.setattr(checkins, "_store", busy)
    body = {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": LAT, "longitude": LON}
    response = ApiClient(user).post(f"/activities/{activity.pk}/checkins", body)
    assert response.status_code == 409
    assert response.json()["code"] == "checkin_busy"
    assert len(attempts) == checkins.ATTEMPTS
    assert not CheckIn.objects.filter(activity=activity).exists()


class TestHotPathQueries:
    """A check-in is the busiest write (issue 4's benchmark): its statements are counted so that
    a change adding a round trip is seen."""

    def test_one_gps_check_in(self, cast, django_assert_num_queries):
        activity, user = _joined(cast)
        api = ApiClient(user)
        body = {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": LAT, "longitude": LON}
        api.get("/ping")  # the token's first use writes last_used_at: not the point here
        # the token with its user; a savepoint (inside the test's transaction: a failed
        # attempt must leave it usable); the activity, the member file, the place, the
        # member's records, an audit chain head and the new record's key (one read); the
        # place's version moved on, the head's move, the check-in and the audit event (one
        # write); the savepoint's release. In a request's own autocommit there is no savepoint:
        # three statements (test_concurrency). SQLite: the read is four statements and the
        # write five (the version, the check-in, the head's claim, the event, the head's move)
        # in a transaction.
        expected = 5 if connection.vendor == "postgresql" else 12
        with django_assert_num_queries(expected):
            response = api.post(f"/activities/{activity.pk}/checkins", body)
        assert response.status_code == 201
