"""Concurrent writers (PostgreSQL): the striped audit chain never serialises them onto one
lock, never forks a chain, and verifies afterwards (security.md reliability)."""

import threading

import pytest
from django.db import connection, connections, transaction

from hongfeng.audit.models import AuditEvent
from hongfeng.audit.services import record_event, verify_chains
from hongfeng.orgs import services
from hongfeng.orgs.models import Unit, UnitKind
from tests.support.threads import in_threads

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer by design"
)


def test_parallel_audited_writes_keep_every_chain_valid(live_cast):
    captain = live_cast.users["captain"]
    team = live_cast.units["hongfeng"]
    before = AuditEvent.objects.count()

    def work(i):
        for j in range(5):
            services.create_unit(
                actor=captain, parent=team, kind=UnitKind.SQUAD, name=f"并发分队{i}-{j}"
            )

    assert in_threads(8, work) == []
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
