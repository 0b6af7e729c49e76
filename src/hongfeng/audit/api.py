"""Read-only audit endpoints for 审计员 (等保 security audit)."""

from datetime import date, datetime

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.audit import selectors, services
from hongfeng.audit.models import AuditEvent
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import Forbidden
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter
from hongfeng.orgs.api import ERRORS

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
router = Router()
TAGS = ("审计",)
API_ROUTERS = [
    ApiRouter("/audit-events", router, TAGS),
]


def _require_auditor(user) -> None:
    if not access.has_capability(user, "audit.view"):
        raise Forbidden("只有审计员可以查看审计记录。")


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    action_label: str
    target_type: str
    target_id: str
    target_label: str
    unit_id: Id | None
    unit_name: str | None
    ip: str
    request_id: str
    channel: str
    summary: dict
    chain: int
    seq: int
    hash: str

    @staticmethod
    def resolve_unit_name(obj: AuditEvent) -> str | None:
        return obj.unit.name if obj.unit_id else None


class ChainOut(Schema):
    chain: int
    events: int
    problems: list[str]


class VerifyOut(Schema):
    ok: bool
    events: int
    chains: list[ChainOut]


@router.get("", response=list[AuditEventOut])
@paginate(Pagination)
def list_events(
    request,
    action: Text | None = Query(None, max_length=64),
    actor: Text | None = Query(None, max_length=50),
    unit_id: Id | None = None,
    since: date | None = None,
    until: date | None = None,
    target_type: Text | None = Query(None, max_length=40),
    target_id: Text | None = Query(None, max_length=40),
    request_id: Text | None = Query(None, max_length=64),
):
    """Audit events in the caller's scope (审计员 only), newest first."""
    _require_auditor(request.user)
    return selectors.events_for(
        request.user,
        action=action,
        actor=actor,
        unit_id=unit_id,
        since=since,
        until=until,
        target_type=target_type,
        target_id=target_id,
        request_id=request_id,
    )


@router.post("/verify", response={200: VerifyOut, **ERRORS})
def verify(request):
    """Recompute every hash chain (platform-wide 审计员 only; the chains span all scopes)."""
    if not access.has_global(request.user, "audit.view"):
        raise Forbidden("只有全平台审计员可以校验审计链。")
    return services.verify_and_record(actor=request.user)


@router.get("/{event_id}", response={200: AuditEventOut, **ERRORS})
def get_event(request, event_id: Id):
    _require_auditor(request.user)
    return selectors.get_event_for_user(request.user, event_id)
