"""Concurrent sign-ups and check-ins (PostgreSQL): capacity is never exceeded, a retried or
doubled check-in is stored once, and a GPS check-in stays three statements (5.2.3, 5.2.9;
issue 4's benchmark)."""

import uuid
from datetime import timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.utils import timezone

from hongfeng.activities import services as activity_services
from hongfeng.activities.models import Activity, CheckIn, Participation
from hongfeng.audit.services import verify_chains
from hongfeng.core.errors import DomainError
from tests.conftest import ApiClient
from tests.support.threads import in_threads

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer by design"
)


def test_parallel_sign_ups_never_exceed_capacity(live_cast):
    """5.2.3 / 4.5: twenty members sign up at once for five places with a waitlist of five —
    exactly five confirmed, five waiting, ten refused; the counters match the rows."""
    captain = live_cast.users["captain"]
    starts = timezone.now() + timedelta(days=1)
    activity = activity_services.create_activity(
        actor=captain,
        unit=live_cast.units["hongfeng"],
        audience_unit=None,
        data=activity_services.ActivityData(
            kind="patrol",
            title="并发报名",
            place="枫桥",
            latitude=29.6,
            longitude=120.3,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=5,
            waitlist_limit=5,
        ),
    )
    activity = activity_services.publish_activity(actor=captain, activity=activity)
    users = [m.user for m in activity_services.eligible_members(activity).order_by("pk")[:20]]
    assert len(users) == 20
    answers = []

    def work(i):
        try:
            answers.append(activity_services.sign_up(user=users[i], activity=activity).status)
        except DomainError as error:
            answers.append(error.code)

    assert in_threads(20, work) == []
    assert sorted(answers).count("confirmed") == 5
    assert answers.count("waitlisted") == 5
    assert answers.count("activity_full") == 10
    activity.refresh_from_db()
    rows = Participation.objects.filter(activity=activity)
    assert activity.confirmed_count == rows.filter(status="confirmed").count() == 5
    assert activity.waitlist_count == rows.filter(status="waitlisted").count() == 5
    assert Activity.objects.get(pk=activity.pk).confirmed_count <= activity.capacity


def _running_with_one_member(live_cast, title):
    """A running activity with one confirmed member: (activity, that member's user)."""
    captain = live_cast.users["captain"]
    starts = timezone.now() - timedelta(minutes=5)
    activity = activity_services.create_activity(
        actor=captain,
        unit=live_cast.units["hongfeng"],
        audience_unit=None,
        data=activity_services.ActivityData(
            kind="patrol",
            title=title,
            place="枫桥",
            latitude=29.6,
            longitude=120.3,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=5,
        ),
    )
    activity = activity_services.publish_activity(actor=captain, activity=activity)
    user = activity_services.eligible_members(activity).order_by("pk").first().user
    activity_services.sign_up(user=user, activity=activity)
    return activity, user


def test_parallel_retries_of_one_check_in_store_it_once(live_cast):
    """T8: the same check-in (one client id) sent eight times at once is stored once."""
    activity, user = _running_with_one_member(live_cast, "并发签到")
    data = activity_services.CheckInData(
        kind="in", client_id=uuid.uuid4(), latitude=29.6, longitude=120.3
    )
    ids = []

    def work(i):
        checkin, _created = activity_services.check_in(user=user, activity=activity, data=data)
        ids.append(checkin.pk)

    assert in_threads(8, work) == []
    assert len(set(ids)) == 1
    assert CheckIn.objects.filter(activity=activity).count() == 1


def test_parallel_check_ins_of_one_member_store_one(live_cast):
    """5.2.9: eight different check-ins of one member at once (two phones, a double tap) —
    no row lock is held while each is judged, yet exactly one is stored: the others find the
    place's version moved on, are judged again on the stored record and refused. Then eight
    check-outs, then eight check-ins again: in, out, in — never two of a kind in a row."""
    activity, user = _running_with_one_member(live_cast, "并发双签到")
    rounds = (("in", "already_checked_in"), ("out", "not_checked_in"), ("in", "already_checked_in"))
    for kind, refusal in rounds:
        answers = []

        def work(i, kind=kind, answers=answers):
            data = activity_services.CheckInData(
                kind=kind, client_id=uuid.uuid4(), latitude=29.6, longitude=120.3
            )
            try:
                activity_services.check_in(user=user, activity=activity, data=data)
                answers.append("created")
            except DomainError as error:
                answers.append(error.code)

        assert in_threads(8, work) == []
        assert sorted(answers) == sorted([refusal] * 7 + ["created"])
    kinds = list(
        CheckIn.objects.filter(activity=activity)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["in", "out", "in"]
    assert Participation.objects.get(activity=activity).checkin_version == 3
    assert all(report.problems == [] for report in verify_chains())


def test_a_check_in_is_three_statements(live_cast, django_assert_num_queries):
    """Issue 4's benchmark: outside any transaction a GPS check-in is the token, one read (the
    activity, the member file, the place, the records, an audit chain head, the new key) and
    one write (the place's version, the head, the record, the event) — no BEGIN, no COMMIT:
    the write is one statement, atomic on its own."""
    activity, user = _running_with_one_member(live_cast, "三条语句")
    api = ApiClient(user)
    api.get("/ping")  # the token's first use writes last_used_at: not the point here
    body = {"kind": "in", "client_id": str(uuid.uuid4()), "latitude": 29.6, "longitude": 120.3}
    with django_assert_num_queries(3):
        response = api.post(f"/activities/{activity.pk}/checkins", body)
    assert response.status_code == 201
    stored = CheckIn.objects.get(activity=activity)
    assert stored.pk == response.json()["id"] and stored.recorded_by_id == user.pk
    assert all(report.problems == [] for report in verify_chains())


def test_places_leave_room_for_their_updates(db):
    """activities 0005: every check-in moves its place's version on; with room left on the
    page (fillfactor) that update stays on the page and touches none of the six indexes."""
    migration = import_module("hongfeng.activities.migrations.0005_participation_fillfactor")

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'activities_participation'")
        (options,) = cursor.fetchone()
    assert f"fillfactor={migration.FILLFACTOR}" in (options or [])
