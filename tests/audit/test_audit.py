"""The audit trail: append-only, hash-chained, tamper-evident (security.md, target T5)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from hongfeng.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from hongfeng.audit.services import record_event, verify_chains


def _raw(sql, params=()):
    """What an attacker with database access would do: bypass the model entirely."""
    with connection.cursor() as cursor:
        # The append-only trigger stops even this; whoever owns the database can drop it.
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        cursor.execute(sql, params)


def _problems():
    return [p for report in verify_chains() for p in report.problems]


def _some_event():
    return AuditEvent.objects.filter(seq__gt=1).order_by("id").first()


class TestChain:
    def test_demo_history_verifies(self, cast):
        reports = verify_chains()
        assert sum(r.events for r in reports) == AuditEvent.objects.count() > 50
        assert _problems() == []

    def test_modified_row_is_detected(self, cast):
        event = _some_event()
        _raw("UPDATE audit_auditevent SET target_label = %s WHERE id = %s", ["篡改", event.pk])
        problems = _problems()
        assert any(f"事件 {event.pk}" in p and "被修改" in p for p in problems)

    def test_deleted_middle_row_is_detected(self, cast):
        event = _some_event()
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        assert any("序号不连续" in p for p in _problems())

    def test_deleted_tail_row_is_detected(self, cast):
        head = AuditChainHead.objects.filter(seq__gt=0).first()
        _raw("DELETE FROM audit_auditevent WHERE chain = %s AND seq = %s", [head.chain, head.seq])
        assert any("链尾与链头不符" in p for p in _problems())

    def test_rewound_head_is_detected(self, cast):
        """Delete the newest event of a chain and wind the head back to the row before it."""
        head = AuditChainHead.objects.filter(seq__gt=1).first()
        previous = AuditEvent.objects.get(chain=head.chain, seq=head.seq - 1)
        _raw("DELETE FROM audit_auditevent WHERE chain = %s AND seq = %s", [head.chain, head.seq])
        _raw(
            "UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE chain = %s",
            [previous.seq, previous.hash, head.chain],
        )
        assert any("链头封印不符" in p for p in _problems())

    def test_deleted_whole_chain_is_detected(self, cast):
        head = AuditChainHead.objects.filter(seq__gt=0).first()
        _raw("DELETE FROM audit_auditevent WHERE chain = %s", [head.chain])
        _raw("DELETE FROM audit_auditchainhead WHERE chain = %s", [head.chain])
        assert any("缺少链头记录" in p for p in _problems())

    def test_inserted_row_is_detected(self, cast):
        event = _some_event()
        _raw(
            "INSERT INTO audit_auditevent (occurred_at, actor_label, action, target_type, "
            "target_id, target_label, ip, request_id, channel, summary, chain, seq, prev_hash, "
            "hash) VALUES (%s, '伪造', 'unit.created', '', '', '', '', '', 'web', '{}', %s, "
            "%s, %s, %s)",
            [event.occurred_at, event.chain, event.seq + 1000, event.hash, "f" * 64],
        )
        assert _problems()

    def test_command_reports_tampering(self, cast, capsys):
        call_command("audit_verify")
        assert "审计链校验通过" in capsys.readouterr().out
        event = _some_event()
        _raw("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ['{"x": 1}', event.pk])
        with pytest.raises(CommandError):
            call_command("audit_verify")
        assert "内容被修改" in capsys.readouterr().out


class TestAppendOnly:
    def test_model_refuses_update_and_delete(self, cast):
        event = AuditEvent.objects.first()
        event.target_label = "x"
        with pytest.raises(AppendOnlyError):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(target_label="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()

    def test_database_refuses_update(self, cast):
        from django.db import DatabaseError

        event = AuditEvent.objects.first()
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])

    def test_unknown_action_is_a_programming_error(self, cast):
        with pytest.raises(ValueError, match="unknown audit action"):
            record_event(action="made.up")

    def test_summaries_are_masked(self, cast):
        with transaction.atomic():
            event = record_event(
                action="unit.renamed",
                actor=cast.users["captain"],
                summary={"note": "张三 13912345678 身份证 330681199001011234"},
            )
        event.refresh_from_db()
        assert "13912345678" not in str(event.summary)
        assert "330681199001011234" not in str(event.summary)
        assert event.actor_label == "楼红枫（139****0030）"


class TestAuditorAccess:
    def test_auditor_sees_events_through_api(self, cast, api_as):
        response = api_as("auditor").get("/audit-events", {"action": "unit.created"})
        assert response.status_code == 200
        from hongfeng.orgs.models import Unit

        assert response.json()["count"] == Unit.objects.count()

    def test_only_auditors_read_audit(self, cast, api_as):
        for key in ("system_admin", "security_admin", "county_admin", "captain"):
            response = api_as(key).get("/audit-events")
            assert response.status_code == 403, key
            assert response.json()["code"] == "forbidden"

    def test_verify_endpoint(self, cast, api_as):
        response = api_as("auditor").post("/audit-events/verify")
        assert response.status_code == 200
        assert response.json()["ok"] is True
        assert AuditEvent.objects.filter(action="audit.verified").exists()

    def test_list_query_count_is_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("auditor")
        with django_assert_max_num_queries(6):
            response = api.get("/audit-events", {"page_size": 50})
        assert len(response.json()["items"]) == 50


def test_append_only_trigger_survives_migrating_back_and_forth(transactional_db):
    """audit 0003 rebuilds the table on SQLite (dropping its triggers) both ways: the
    append-only trigger is put back each time, and PostgreSQL keeps its own."""
    from django.db import DatabaseError

    try:
        call_command("migrate", "audit", "0002", verbosity=0)
        event = record_event(action="audit.verified")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    finally:
        call_command("migrate", verbosity=0)
    event = record_event(action="audit.verified")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
