"""Reads of the audit trail for 审计员, scoped through the access helper."""

from datetime import date, datetime, time

from django.db.models import Q
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import NotFound


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def events_for(
    user,
    *,
    action=None,
    actor=None,
    unit_id=None,
    since=None,
    until=None,
    target_type=None,
    target_id=None,
    request_id=None,
):
    """Audit events in the auditor's scope, newest first. Events with no unit (a failed login
    with an unknown number, platform-wide grants) are seen by platform-wide auditors only."""
    events = AuditEvent.objects.visible_to(user).select_related("unit")
    if action:
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if actor:
        events = events.filter(Q(actor_label__icontains=actor))
    if unit_id is not None:
        unit = access.get_unit_for_user(user, unit_id, "audit.view")
        events = events.filter(unit__path__startswith=unit.path)
    if since:
        events = events.filter(occurred_at__gte=_day_start(since))
    if until:
        events = events.filter(occurred_at__lt=_day_start(until) + timezone.timedelta(days=1))
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    if request_id:
        events = events.filter(request_id=request_id)
    return events.order_by("-occurred_at", "-id")


def get_event_for_user(user, event_id) -> AuditEvent:
    event = (
        AuditEvent.objects.visible_to(user)
        .select_related("unit")
        .filter(pk=access.parse_id(event_id))
        .first()
    )
    if event is None:
        raise NotFound()
    return event
