"""The audit app's number on the platform card (registered in audit.registrations)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from hongfeng.accounts.models import Role
from hongfeng.audit.models import AuditEvent
from hongfeng.core.dashboard import Stat


def recent_event_stats(user, roles: set[str]) -> list[Stat]:
    """The auditor's events of the last two days."""
    if Role.AUDITOR not in roles:
        return []
    since = timezone.localdate() - timedelta(days=1)
    recent = AuditEvent.objects.filter(occurred_at__date__gte=since).count()
    url = f"{reverse('audit:events')}?since={since.isoformat()}"
    return [Stat("近两日审计事件", recent, "条", url)]
