"""Verifying the audit chain from 安全审计 (issue 15, item 5.8; security.md T5): a platform-wide
auditor starts a verification of the whole trail, which runs as a background task with progress
the page polls, and reads in Chinese whether rows were modified, inserted or deleted."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.audit import services, verification
from hongfeng.audit.models import AuditEvent, ChainVerification, VerificationStatus

from .test_audit import _raw, _some_event

VERIFY = "/audit/verify/"


@pytest.fixture
def county_auditor(cast):
    """An auditor whose scope is one county: the chains span every scope, so not theirs."""
    user = User.objects.create_user(mobile="13512340009", name="县审计员")
    RoleAssignment.objects.create(user=user, role=Role.AUDITOR, unit=cast.units["zhuji"])
    return user


def _verify(client, capture):
    """Start a verification; the task runs when the request's transaction commits."""
    with capture(execute=True):
        response = client.post(VERIFY)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).text


class TestVerifyPage:
    def test_reachable_from_the_audit_browser(self, cast, page_as):
        assert f'href="{VERIFY}"' in page_as("auditor").get("/audit/").text
        page = page_as("auditor").get(VERIFY).text
        assert "开始校验" in page and "还没有从本页发起过校验" in page

    def test_an_intact_trail_verifies(self, cast, page_as, django_capture_on_commit_callbacks):
        page = _verify(page_as("auditor"), django_capture_on_commit_callbacks)
        run = ChainVerification.objects.get()
        assert run.status == VerificationStatus.DONE and run.ok is True
        assert run.checked == AuditEvent.objects.exclude(action="audit.verified").count()
        assert "校验通过" in page and f"共 {run.checked} 条审计记录" in page
        assert AuditEvent.objects.filter(action="audit.verify_requested").count() == 1
        verified = AuditEvent.objects.get(action="audit.verified")
        assert verified.summary["ok"] is True and verified.actor == cast.users["auditor"]

    def test_a_modified_row_is_named(self, cast, page_as, django_capture_on_commit_callbacks):
        event = _some_event()
        _raw("UPDATE audit_auditevent SET target_label = %s WHERE id = %s", ["篡改", event.pk])
        page = _verify(page_as("auditor"), django_capture_on_commit_callbacks)
        assert "发现 1 处异常" in page
        assert f"事件 {event.pk}（序号 {event.seq}）签名不符：内容被修改" in page
        assert f"第 {event.chain} 条链" in page
        assert ChainVerification.objects.get().ok is False

    def test_deleted_rows_are_named(self, cast, page_as, django_capture_on_commit_callbacks):
        event = _some_event()
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        page = _verify(page_as("auditor"), django_capture_on_commit_callbacks)
        assert f"序号 {event.seq} 的记录缺失（被删除）" in page

    def test_an_inserted_row_is_named(self, cast, page_as, django_capture_on_commit_callbacks):
        first = AuditEvent.objects.filter(seq=2).order_by("id").first()
        _raw(
            "INSERT INTO audit_auditevent (occurred_at, actor_label, action, target_type, "
            "target_id, target_label, ip, request_id, channel, summary, chain, seq, prev_hash, "
            "hash) VALUES (%s, '伪造', 'unit.created', '', '', '', '', '', 'web', '{}', %s, "
            "%s, %s, %s)",
            [first.occurred_at, first.chain, 1000000, first.hash, "f" * 64],
        )
        fake = AuditEvent.objects.get(seq=1000000)
        page = _verify(page_as("auditor"), django_capture_on_commit_callbacks)
        assert f"事件 {fake.pk}（序号 1000000）签名不符" in page and "伪造插入" in page

    def test_asking_again_while_it_runs_returns_the_same(self, cast, page_as):
        client = page_as("auditor")
        first = client.post(VERIFY)  # queued: its task waits for the commit
        second = client.post(VERIFY)
        assert first.headers["Location"] == second.headers["Location"]
        assert ChainVerification.objects.count() == 1
        running = client.get(first.headers["Location"]).text
        assert "已排队" in running and 'hx-trigger="every 1500ms"' in running
        partial = client.get(first.headers["Location"], headers={"HX-Request": "true"}).text
        assert partial.lstrip().startswith('<div id="verify-status"')

    def test_an_interrupted_run_can_be_started_again(self, cast, page_as):
        client = page_as("auditor")
        stuck = ChainVerification.objects.get(
            pk=verification.request_verification(actor=cast.users["auditor"]).pk
        )
        with time_machine.travel(timezone.now() + timedelta(minutes=10)):
            assert "可能已中断" in client.get(f"{VERIFY}{stuck.pk}/").text
            fresh = client.post(VERIFY)
        stuck.refresh_from_db()
        assert stuck.status == VerificationStatus.FAILED and "中断" in stuck.message
        assert fresh.headers["Location"] != f"{VERIFY}{stuck.pk}/"
        assert verification.run_verification(stuck.pk) is None  # its late task does nothing

    def test_the_task_runs_once(self, cast):
        run = verification.request_verification(actor=cast.users["auditor"])
        assert verification.run_verification(run.pk).status == VerificationStatus.DONE
        assert verification.run_verification(run.pk) is None  # a retried task: nothing to do
        assert AuditEvent.objects.filter(action="audit.verified").count() == 1

    def test_progress_is_reported(self, cast, monkeypatch):
        monkeypatch.setattr(services, "PROGRESS_EVERY", 50)
        seen: list[int] = []
        reports = services.verify_chains(seen.append)
        total = sum(r.events for r in reports)
        assert seen == list(range(50, total + 1, 50))
        run = verification.request_verification(actor=cast.users["auditor"])
        shown: list[int] = []  # what the polled row said at each report
        real = verification.verify_and_record

        def watched(*, actor, progress):
            def report(checked):
                progress(checked)
                shown.append(ChainVerification.objects.get(pk=run.pk).checked)

            return real(actor=actor, progress=report)

        monkeypatch.setattr(verification, "verify_and_record", watched)
        verification.run_verification(run.pk)
        assert shown and shown == list(range(50, shown[-1] + 1, 50))


class TestWhoMayVerify:
    def test_a_scoped_auditor_reads_the_outcome_only(
        self, cast, page_as, county_auditor, django_capture_on_commit_callbacks
    ):
        client = page_as("auditor")
        _verify(client, django_capture_on_commit_callbacks)
        client.force_login(county_auditor)
        page = client.get(VERIFY).text
        assert "只有全平台审计员可以发起校验" in page and "校验通过" in page
        assert "开始校验</button>" not in page
        assert client.post(VERIFY).status_code == 403
        assert client.get(f"{VERIFY}{ChainVerification.objects.get().pk}/").status_code == 403
        assert ChainVerification.objects.count() == 1

    def test_others_are_refused(self, cast, page_as):
        for key in ("county_admin", "system_admin", "security_admin", "captain", "volunteer"):
            assert page_as(key).get(VERIFY).status_code == 403, key
            assert page_as(key).post(VERIFY).status_code == 403, key
        assert not ChainVerification.objects.exists()

    def test_queries_are_bounded(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("auditor")
        for _ in range(3):
            run = verification.request_verification(actor=cast.users["auditor"])
            verification.run_verification(run.pk)
        client.get(VERIFY)
        with django_assert_max_num_queries(8):
            assert client.get(VERIFY).text.count("通过") >= 3
