"""Personal data (security.md, PIPL): the audited reveal of a masked value, and the consents a
person gives."""

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.members.models import Consent, Member

REVEALABLE = {"id_number": "身份证号", "mobile": "手机号", "health_declaration": "健康声明"}


@transaction.atomic
def reveal(*, actor, member: Member, field_name: str, reason: str) -> str:
    """Show one masked value in clear: needs the reveal permission over the member's unit and a
    reason, and leaves an audit event (security.md). The owner never needs this."""
    if field_name not in REVEALABLE:
        raise DomainError("不能查看该字段。", code="invalid_field", field="field")
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise DomainError("请写明查看原因（至少4个字）。", code="reason_required", field="reason")
    if len(reason) > 200:
        raise DomainError("原因不能超过200字。", code="too_long", field="reason")
    if member.user_id != actor.pk:
        access.require(actor, "members.reveal", member.unit, "您无权查看该队员的明文信息。")
    value = member.user.mobile if field_name == "mobile" else getattr(member, field_name)
    record_event(
        action="member.revealed",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"field": field_name, "reason": reason},
    )
    return value


def record_consent(*, user, kind: str, text_version: str):
    """PIPL: which text was agreed to, and when."""
    return Consent.objects.create(
        user=user, kind=kind, text_version=text_version, consented_at=timezone.now()
    )
