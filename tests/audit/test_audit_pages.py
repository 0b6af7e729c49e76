"""The audit browser for auditors: filters with bounded queries, an event's detail in Chinese
words (its target's kind and channel, not codes), and nobody else let in."""

import pytest

from hongfeng.audit.models import AuditEvent


def _text(response) -> str:
    return response.content.decode()


class TestAuditPages:
    def test_auditor_browses_and_filters(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("auditor")
        with django_assert_max_num_queries(20):
            text = _text(client.get("/audit/?action=unit.created"))
        assert "新建单位" in text
        text = _text(client.get("/audit/?since=not-a-date"))
        assert "日期格式不正确" in text

    def test_event_detail(self, cast, page_as):
        from hongfeng.audit.models import AuditEvent

        event = AuditEvent.objects.filter(action="team.onboarded").first()
        text = _text(page_as("auditor").get(f"/audit/{event.pk}/"))
        assert "队伍一键入驻" in text and event.hash in text

    @pytest.mark.parametrize("who", ["system_admin", "security_admin", "captain"])
    def test_non_auditors_refused(self, cast, page_as, who):
        assert page_as(who).get("/audit/").status_code == 403


def test_audit_event_names_its_target_kind_and_channel(cast, page_as):
    event = AuditEvent.objects.filter(target_type="accounts.user").first()
    text = _text(page_as("auditor").get(f"/audit/{event.pk}/"))
    assert "accounts.user" not in text and "账号 编号" in text
    assert f"{event.channel_label} ·" in text and event.channel_label != event.channel
