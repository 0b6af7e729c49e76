"""core.hotpath: the hot paths' SQL built once must give exactly what the ORM gives — the same
instances, values and types, on SQLite and on PostgreSQL (issue 4's sign-up benchmark)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from hongfeng.activities import services as activity_services
from hongfeng.activities.models import Activity, CheckIn, Participation
from hongfeng.audit.models import AuditEvent
from hongfeng.audit.services import record_event
from hongfeng.core import hotpath
from hongfeng.members.models import Member, Skill
from hongfeng.points import services as points_services
from hongfeng.points.models import PointsEntry
from tests.support.activities import LAT, LON, published_activity


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _same(fast, slow) -> None:
    assert type(fast) is type(slow)
    fast_values, slow_values = _values(fast), _values(slow)
    assert fast_values == slow_values
    for name, value in slow_values.items():  # not just equal: the same Python types
        assert type(fast_values[name]) is type(value), name


def test_fetch_one_matches_the_orm_with_related_rows(cast):
    activity = published_activity(
        cast, audience_categories=["student"], required_equipment=["radio"]
    )
    fast = hotpath.fetch_one(
        Activity, "t0.id = %s", [activity.pk], related=("unit", "audience_unit")
    )
    slow = Activity.objects.select_related("unit", "audience_unit").get(pk=activity.pk)
    _same(fast, slow)
    _same(fast.unit, slow.unit)
    _same(fast.audience_unit, slow.audience_unit)
    assert fast.audience_categories == ["student"]  # JSON decoded as the ORM decodes it
    assert not fast._state.adding and fast._state.db == slow._state.db


def test_a_narrowed_read_defers_the_rest_as_only_does(cast, django_assert_num_queries):
    """row_select(only=...): the fields named are read as the ORM reads them, the others are
    deferred as QuerySet.only leaves them — loaded from the database when touched."""
    activity = published_activity(cast, audience_categories=["student"])
    path = activity.audience_unit.path
    select = hotpath.row_select(
        Activity,
        "t0.id = %s",
        related=("audience_unit",),
        only={"": ("title", "starts_at", "audience_unit"), "audience_unit": ("path",)},
    )
    with django_assert_num_queries(1):
        row = hotpath.fetch_rows(select.sql, [activity.pk])[0]
        fast = select.build(row)
        assert (fast.pk, fast.title, fast.starts_at) == (
            activity.pk,
            activity.title,
            activity.starts_at,
        )
        assert fast.audience_unit.path == path
    slow = Activity.objects.only("title", "starts_at", "audience_unit").get(pk=activity.pk)
    assert fast.get_deferred_fields() == slow.get_deferred_fields()
    assert "audience_categories" in fast.get_deferred_fields()
    assert fast.audience_unit.get_deferred_fields() >= {"name", "parent_id"}
    with django_assert_num_queries(1):
        assert fast.audience_categories == ["student"]


def test_fetch_one_reads_related_objects_without_another_query(cast, django_assert_num_queries):
    user = cast.users["volunteer"]
    with django_assert_num_queries(1):
        member = hotpath.fetch_one(Member, "t0.user_id = %s", [user.pk], related=("unit",))
        assert member.unit.name  # already loaded
    _same(member, Member.objects.get(user=user))


def test_fetch_one_with_a_nullable_foreign_key_left_empty(cast):
    activity = published_activity(cast)
    member = Member.objects.get(user=cast.users["volunteer"])
    now = timezone.now()
    row = Participation.objects.create(
        activity=activity, member=member, status="confirmed", queued_at=now, updated_at=now
    )
    fast = hotpath.fetch_one(Participation, "t0.id = %s", [row.pk], related=("rated_by",))
    assert fast.rated_by is None and fast.rated_by_id is None
    _same(fast, Participation.objects.get(pk=row.pk))


def test_fetch_all_orders_and_returns_nothing_when_nothing_matches(cast):
    units = hotpath.fetch_all(
        Member, "t0.unit_id = %s", [cast.units["hongfeng"].pk], order="t0.id DESC"
    )
    assert [m.pk for m in units] == list(
        Member.objects.filter(unit=cast.units["hongfeng"])
        .order_by("-id")
        .values_list("id", flat=True)
    )
    assert hotpath.fetch_all(Member, "t0.id = %s", [-1]) == []
    assert hotpath.fetch_one(Member, "t0.id = %s", [-1]) is None


def _unsaved_checkin(cast, **values) -> CheckIn:
    """A new GPS check-in of the demo volunteer (flagged), with `values` in place of the
    defaults."""
    at = timezone.now()
    fields = {
        "activity": published_activity(cast),
        "member": Member.objects.get(user=cast.users["volunteer"]),
        "kind": "in",
        "method": "gps",
        "at": at,
        "received_at": at,
        "latitude": LAT,
        "longitude": LON,
        "accuracy_m": 12.0,
        "flags": ["outside_fence"],
        "flagged": True,
        "recorded_by": cast.users["volunteer"],
    }
    return CheckIn(**{**fields, **values})


def test_insert_stores_what_save_would(cast):
    member = Member.objects.get(user=cast.users["volunteer"])
    client_id = uuid.uuid4()
    at = timezone.now() - timedelta(minutes=3)
    checkin = hotpath.insert(_unsaved_checkin(cast, client_id=client_id, at=at, received_at=at))
    assert checkin.pk and not checkin._state.adding
    stored = CheckIn.objects.get(pk=checkin.pk)
    assert (stored.client_id, stored.at, stored.flags) == (client_id, at, ["outside_fence"])
    _same(hotpath.fetch_one(CheckIn, "t0.id = %s", [checkin.pk]), stored)
    found = hotpath.fetch_one(
        CheckIn,
        "t0.member_id = %s AND t0.client_id = %s",
        [member.pk, hotpath.db_value(CheckIn, "client_id", client_id)],
    )
    assert found.pk == checkin.pk


def _orm_parameters(instance, fields) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def _comparable(values) -> list:
    """(type, value) of each parameter; PostgreSQL's JSON wrapper compared by what it wraps."""
    return [(type(v), getattr(v, "obj", v)) for v in values]


def _stored(cast, model):
    """A row of `model` written here through its service and read back as the ORM reads it —
    made by the test, not whatever the demo happens to hold."""
    volunteer = cast.users["volunteer"]
    if model is AuditEvent:
        row = record_event(action="audit.verified", actor=cast.users["auditor"])
    elif model is Participation:
        row = activity_services.sign_up(user=volunteer, activity=published_activity(cast))
    else:
        row = points_services.post_entry(
            member=Member.objects.select_related("unit").get(user=volunteer),
            source="correction",
            amount=Decimal("12.50"),
            explanation="补记",
            activity=published_activity(cast),
            inputs={"hours": "2.5"},
        )
    return model.objects.get(pk=row.pk)


@pytest.mark.parametrize("model", [CheckIn, AuditEvent, Participation, PointsEntry])
def test_insert_parameters_are_the_orms_for_every_field_kind(cast, model):
    """The shortcut for plain field kinds (core.hotpath._preparers) gives what the ORM's
    get_db_prep_save gives — equal values of the same types (PostgreSQL wraps integers in
    sized types) — and the rest go the ORM's way."""
    instance = _unsaved_checkin(cast) if model is CheckIn else _stored(cast, model)
    fields = tuple(model._meta.concrete_fields)
    fast, slow = (
        hotpath._insert_values(instance, fields, connection),
        _orm_parameters(instance, fields),
    )
    assert _comparable(fast) == _comparable(slow)


def test_insert_parameters_of_other_types_take_the_orms_way(cast):
    """A value not of the field's plain type (a string for a number, an enum member for a
    string) is converted exactly as the ORM converts it."""
    checkin = _unsaved_checkin(cast, distance_m=Decimal("12.5"))
    checkin.latitude, checkin.offline = "30.1", 0
    fields = tuple(CheckIn._meta.concrete_fields)
    fast = hotpath._insert_values(checkin, fields, connection)
    assert _comparable(fast) == _comparable(_orm_parameters(checkin, fields))
    by_name = dict(zip([f.attname for f in fields], fast, strict=True))
    assert by_name["latitude"] == 30.1 and by_name["distance_m"] == 12.5
    assert by_name["offline"] is False


def test_decimals_and_dates_convert_as_the_orm_does(cast):
    entry = _stored(cast, PointsEntry)
    fast = hotpath.fetch_one(PointsEntry, "t0.id = %s", [entry.pk])
    _same(fast, PointsEntry.objects.get(pk=entry.pk))
    assert all(
        isinstance(getattr(fast, f.attname), Decimal)
        for f in PointsEntry._meta.concrete_fields
        if f.get_internal_type() == "DecimalField"
    )


def test_set_prefetched_answers_all_without_a_query(cast, django_assert_num_queries):
    member = Member.objects.get(user=cast.users["volunteer"])
    policies = list(member.insurances.all())
    assert policies, "the demo volunteer is insured"
    fresh = Member.objects.get(pk=member.pk)
    hotpath.set_prefetched(fresh, "insurances", policies)
    insured = member.insured_on(timezone.localdate())
    with django_assert_num_queries(0):
        assert list(fresh.insurances.all()) == policies
        assert fresh.insured_on(timezone.localdate()) == insured


def test_execute_counts_changed_rows_and_audit_events_chain_as_before(cast):
    activity = published_activity(cast)
    changed = hotpath.execute(
        "UPDATE activities_activity SET waitlist_limit = waitlist_limit WHERE id = %s",
        [activity.pk],
    )
    assert changed == 1
    assert hotpath.execute("UPDATE activities_activity SET title = title WHERE id = -1", []) == 0
    from django.core.management import call_command

    before = AuditEvent.objects.count()
    published_activity(cast)  # audited writes through the single-event fast path
    assert AuditEvent.objects.count() > before
    call_command("audit_verify")  # the chains still verify


def test_insert_and_execute_in_one_round_trip(cast, django_assert_num_queries):
    """The row and the second statement together (one statement on PostgreSQL); the second
    statement's changed rows are returned, and the row is stored as `insert` stores it."""
    activity = published_activity(cast)
    skill = Skill(code="hotpath_pair", name="一次往返")
    expected = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(expected):
        changed = hotpath.insert_and_execute(
            skill,
            "UPDATE activities_activity SET waitlist_limit = waitlist_limit WHERE id = %s",
            [activity.pk],
        )
    assert changed == 1
    assert Skill.objects.get(pk=skill.pk).name == "一次往返"
    other = Skill(code="hotpath_none", name="无更新")
    assert hotpath.insert_and_execute(other, "DELETE FROM members_skill WHERE id = %s", [-1]) == 0
    assert Skill.objects.filter(pk=other.pk).exists()


def test_models_with_init_receivers_are_built_through_from_db(cast):
    """Rows are built without Model.__init__ only for models nobody listens to; a model with
    a post_init receiver still gets its signal."""
    from django.db.models.signals import post_init

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    member = Member.objects.get(user=cast.users["volunteer"])
    post_init.connect(receiver, sender=Member)
    hotpath._select.cache_clear()
    try:
        fast = hotpath.fetch_one(Member, "t0.id = %s", [member.pk])
    finally:
        post_init.disconnect(receiver, sender=Member)
        hotpath._select.cache_clear()
    assert seen == [member.pk]
    _same(fast, member)
    plain = hotpath.fetch_one(Member, "t0.id = %s", [member.pk])
    _same(plain, member)
    assert not plain._state.adding and plain._state.db == member._state.db
    assert plain.unit.pk == member.unit_id  # relations still load lazily


def test_insert_and_fetch_one_in_one_round_trip(cast, django_assert_num_queries):
    """The new row and another row's read together (one statement on PostgreSQL): the row is
    stored as `insert` stores it, the read gives what `fetch_one` gives — or None, with the
    row still stored."""
    activity = published_activity(cast)
    skill = Skill(code="hotpath_claim", name="插入并读取")
    expected = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(expected):
        found = hotpath.insert_and_fetch_one(
            skill, Activity, "t0.id = %s", [activity.pk], lock=True
        )
    _same(found, Activity.objects.get(pk=activity.pk))
    assert Skill.objects.get(pk=skill.pk).name == "插入并读取"
    other = Skill(code="hotpath_claim_none", name="无匹配")
    assert hotpath.insert_and_fetch_one(other, Activity, "t0.id = %s", [-1]) is None
    assert Skill.objects.filter(pk=other.pk).exists()


def test_an_audited_insert_names_its_row_and_chains(cast):
    """record_event(inserting=row): the row is stored, the summary names it by primary key,
    and the chains verify."""
    from hongfeng.audit.services import record_event, verify_chains

    skill = Skill(code="audited_insert", name="审计插入")
    event = record_event(
        action="audit.verified", summary={"skill": skill, "note": "x"}, inserting=skill
    )
    assert skill.pk and Skill.objects.filter(pk=skill.pk).exists()
    assert AuditEvent.objects.get(pk=event.pk).summary == {"skill": skill.pk, "note": "x"}
    assert [p for r in verify_chains() for p in r.problems] == []


def test_audited_inserts_in_one_transaction_share_its_chain(cast):
    """Two audited inserts in one transaction: each row stored once, both events on the chain
    the transaction took first, and the chains verify."""
    from django.db import transaction

    from hongfeng.audit.services import record_event, verify_chains

    first, second = Skill(code="one_tx_1", name="同一事务一"), Skill(code="one_tx_2", name="二")
    with transaction.atomic():
        a = record_event(action="audit.verified", summary={"skill": first}, inserting=first)
        b = record_event(action="audit.verified", summary={"skill": second}, inserting=second)
    assert a.chain == b.chain and b.seq == a.seq + 1
    assert Skill.objects.filter(code__startswith="one_tx_").count() == 2
    assert [p for r in verify_chains() for p in r.problems] == []


def test_an_unsaved_row_cannot_be_named_in_a_summary(cast):
    from hongfeng.audit.services import record_event

    with pytest.raises(ValueError, match="unsaved"):
        record_event(action="audit.verified", summary={"skill": Skill(code="x", name="x")})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the kept cursor is PostgreSQL's")
def test_the_kept_cursor_survives_errors_and_reconnects(live_cast):
    """After a failed statement (rolled back) and after the connection is closed, the next
    statements run — on a fresh cursor where the connection is new."""
    from django.db import IntegrityError, transaction

    member = Member.objects.get(user=live_cast.users["volunteer"])
    taken = Skill.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        hotpath.insert(Skill(code=taken.code, name="重复"))
    with pytest.raises(IntegrityError):  # outside a transaction too
        hotpath.insert(Skill(code=taken.code, name="重复"))
    assert hotpath.fetch_one(Member, "t0.id = %s", [member.pk]).pk == member.pk
    kept = connection._hotpath_cursor
    connection.close()
    assert hotpath.fetch_one(Member, "t0.id = %s", [member.pk]).pk == member.pk
    assert connection._hotpath_cursor is not kept
