"""The roster export (security.md: exports are scoped, masked unless approved, watermarked and
audited). Which members it holds is said in the file's header and on the page offering it
(issue 15, item 3.5): members serving by default, suspended and exited ones only when asked."""

from django.db import transaction

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.db_routing import using_replica
from hongfeng.core.errors import DomainError
from hongfeng.members.models import SERVING
from hongfeng.members.selectors import members_for
from hongfeng.members.spreadsheets import roster_export


def left_out_count(actor, unit) -> int:
    """How many members of the unit the default export leaves out (suspended or exited): the
    export's own selection (`members_for`), less those serving."""
    return members_for(actor, unit=unit).exclude(status__in=SERVING).count()


def export_roster(
    *, actor, unit, reveal: bool = False, reason: str = "", include_left: bool = False
) -> bytes:
    """The roster of a unit as .xlsx: masked; in clear only with the reveal permission and a
    reason. Serving members only, unless `include_left` adds the suspended and exited ones.

    A whole unit's roster is the heaviest read of the members pages, so its rows come from the
    replica when one is configured (docs/scaling.md). That is why this is not one transaction:
    the permission checks read the primary, the rows are read outside any transaction (the
    router keeps reads inside one on the primary), and the audit row is written on the primary
    before the file is handed back — an export that cannot be audited is not returned."""
    access.require(actor, "members.view", unit, "您无权导出该单位的队员名册。")
    reason = " ".join((reason or "").split())
    if reveal:
        access.require(actor, "members.reveal", unit, "您无权导出明文名册。")
        if len(reason) < 4:
            raise DomainError(
                "导出明文名册须写明原因（至少4个字）。", code="reason_required", field="reason"
            )
    with using_replica():
        members = list(members_for(actor, unit=unit, status=None if include_left else "serving"))
        left_out = 0 if include_left else left_out_count(actor, unit)
        content = roster_export(
            members,
            viewer=actor,
            reveal=reveal,
            unit=unit,
            include_left=include_left,
            left_out=left_out,
        )
    with transaction.atomic():
        record_event(
            action="member.exported",
            actor=actor,
            target=unit,
            unit=unit,
            summary={
                "rows": len(members),
                "reveal": reveal,
                "reason": reason,
                "statuses": "all" if include_left else "serving",
            },
        )
    return content
