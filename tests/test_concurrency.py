"""Concurrent writers (PostgreSQL): the striped audit chain never serialises them onto one
lock, never forks a chain, and verifies afterwards (security.md reliability)."""

import threading

import pytest
from django.db import connection, connections, transaction

from hongfeng.audit.models import AuditEvent
from hongfeng.audit.services import record_event, verify_chains
from hongfeng.orgs import services
from hongfeng.orgs.models import Unit, UnitKind

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer by design"
)


def _in_threads(n, work):
    errors, barrier = [], threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_parallel_audited_writes_keep_every_chain_valid(live_cast):
    captain = live_cast.users["captain"]
    team = live_cast.units["hongfeng"]
    before = AuditEvent.objects.count()

    def work(i):
        for j in range(5):
            services.create_unit(
                actor=captain, parent=team, kind=UnitKind.SQUAD, name=f"并发分队{i}-{j}"
            )

    assert _in_threads(8, work) == []
    assert Unit.objects.filter(name__startswith="并发分队").count() == 40
    assert AuditEvent.objects.count() - before == 40
    assert [p for r in verify_chains() for p in r.problems] == []


def test_writers_spread_over_chains(live_cast):
    """While one transaction holds a chain head, another writer takes a different chain
    instead of waiting (SKIP LOCKED)."""
    holding = threading.Event()
    release = threading.Event()
    chains = {}

    def holder():
        with transaction.atomic():
            chains["held"] = record_event(action="audit.verified").chain
            holding.set()
            release.wait(30)
        connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Waiting for the held head would hit this timeout and fail the test.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            chains["other"] = record_event(action="audit.verified").chain
    finally:
        release.set()
        thread.join(10)
    assert chains["held"] != chains["other"]


def test_an_audited_insert_waits_when_every_head_is_busy(live_cast, settings):
    """With every chain head held elsewhere, an audited insert stores its row once and waits
    for a head instead of failing (one stripe here, held by another transaction for a moment)."""
    from hongfeng.members.models import Skill

    settings.AUDIT_STRIPES = 1
    holding, chains = threading.Event(), {}

    def holder():
        with transaction.atomic():
            chains["held"] = record_event(action="audit.verified").chain
            holding.set()
            threading.Event().wait(1)  # the other writer finds no free head meanwhile
        connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    try:
        skill = Skill(code="busy_heads", name="全部链头占用")
        with transaction.atomic():
            event = record_event(action="audit.verified", summary={"skill": skill}, inserting=skill)
    finally:
        thread.join(10)
    assert event.chain == chains["held"] == 0
    assert Skill.objects.filter(code="busy_heads").count() == 1
    assert [p for r in verify_chains() for p in r.problems] == []


def test_one_transaction_holds_one_chain(live_cast):
    """Many events in one transaction (a big onboarding) lock a single chain head, leaving the
    others free for everyone else."""
    from django.conf import settings

    from hongfeng.audit.models import AuditChainHead

    free = {}
    with transaction.atomic():
        for _ in range(30):
            record_event(action="audit.verified")

        def count_free():
            with transaction.atomic():
                free["n"] = len(
                    AuditChainHead.objects.select_for_update(skip_locked=True).values_list(
                        "chain", flat=True
                    )
                )
            connections.close_all()

        thread = threading.Thread(target=count_free)
        thread.start()
        thread.join(10)
    assert free["n"] == settings.AUDIT_STRIPES - 1


def test_next_transaction_claims_afresh(live_cast):
    """A service decorated with @transaction.atomic reuses one Atomic object for every call; the
    head a transaction held must not follow it into the next transaction."""
    with transaction.atomic():
        record_event(action="audit.verified")
        assert connection._hongfeng_audit_head is not None
    assert connection._hongfeng_audit_head is None
    try:
        with transaction.atomic():
            record_event(action="audit.verified")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with transaction.atomic():
        held_before = connection._hongfeng_audit_head
        record_event(action="audit.verified")
        assert connection._hongfeng_audit_head is not held_before


def test_parallel_sign_ups_never_exceed_capacity(live_cast):
    """5.2.3 / 4.5: twenty members sign up at once for five places with a waitlist of five —
    exactly five confirmed, five waiting, ten refused; the counters match the rows."""
    from datetime import timedelta

    from django.utils import timezone

    from hongfeng.activities import services as activity_services
    from hongfeng.activities.models import Activity, Participation
    from hongfeng.core.errors import DomainError

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

    assert _in_threads(20, work) == []
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
    from datetime import timedelta

    from django.utils import timezone

    from hongfeng.activities import services as activity_services

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
    import uuid

    from hongfeng.activities import services as activity_services
    from hongfeng.activities.models import CheckIn

    activity, user = _running_with_one_member(live_cast, "并发签到")
    data = activity_services.CheckInData(
        kind="in", client_id=uuid.uuid4(), latitude=29.6, longitude=120.3
    )
    ids = []

    def work(i):
        checkin, _created = activity_services.check_in(user=user, activity=activity, data=data)
        ids.append(checkin.pk)

    assert _in_threads(8, work) == []
    assert len(set(ids)) == 1
    assert CheckIn.objects.filter(activity=activity).count() == 1


def test_parallel_check_ins_of_one_member_store_one(live_cast):
    """5.2.9: eight different check-ins of one member at once (two phones, a double tap) —
    no row lock is held while each is judged, yet exactly one is stored: the others find the
    place's version moved on, are judged again on the stored record and refused. Then eight
    check-outs, then eight check-ins again: in, out, in — never two of a kind in a row."""
    import uuid

    from hongfeng.activities import services as activity_services
    from hongfeng.activities.models import CheckIn, Participation
    from hongfeng.core.errors import DomainError

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

        assert _in_threads(8, work) == []
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
    import uuid

    from hongfeng.activities.models import CheckIn
    from hongfeng.audit.services import verify_chains
    from tests.conftest import ApiClient

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
    from importlib import import_module

    migration = import_module("hongfeng.activities.migrations.0005_participation_fillfactor")

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'activities_participation'")
        (options,) = cursor.fetchone()
    assert f"fillfactor={migration.FILLFACTOR}" in (options or [])
