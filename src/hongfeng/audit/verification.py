"""The audit chain verification asked for from the 安全审计 page (security.md T5).

`verify_and_record` recomputes every row's HMAC, one row after another: about 15,000 rows a
second on one core (measured on SQLite), so a trail of millions of rows is minutes of work, far
beyond a page request. So the page asks for a verification (`request_verification`), which
queues a background task (`hongfeng.audit.tasks.verify_audit_chain`, run by `hongfeng
db_worker` like the roster imports); the task runs the same `verify_and_record` with a
progress callback and stores what it found on the `ChainVerification` row the page polls.
Bounding the work instead (checking only recent rows) would miss exactly the old rows an
intruder would alter, so the whole trail is always checked.

The chains interleave the events of every scope, so the verification covers the whole trail and
only a platform-wide auditor may start it or read its findings (as `POST /audit-events/verify`).
"""

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.models import (
    VERIFICATION_STALE_AFTER,
    AuditChainHead,
    ChainVerification,
    VerificationStatus,
)
from hongfeng.audit.services import record_event, verify_and_record
from hongfeng.core.errors import Forbidden, NotFound

STALE_AFTER = VERIFICATION_STALE_AFTER
# Problems kept per chain for the page (the count is kept whole; the audit event says which
# chains broke). A wholesale rewrite would otherwise store millions of lines.
PROBLEMS_KEPT = 100
INTERRUPTED = "校验中断（后台任务停止），未完成。请重新校验。"


def require_platform_auditor(user) -> None:
    if not access.has_global(user, "audit.view"):
        raise Forbidden("审计链覆盖全平台，只有全平台审计员可以校验。")


def _stale_before():
    return timezone.now() - STALE_AFTER


def _live():
    """Verifications queued or running whose heartbeat is recent."""
    fresh = Q(heartbeat_at__gte=_stale_before())
    return ChainVerification.objects.filter(
        Q(status__in=[VerificationStatus.QUEUED, VerificationStatus.RUNNING]) & fresh
    )


@transaction.atomic
def request_verification(*, actor) -> ChainVerification:
    """Queue a verification of the whole audit trail (platform-wide auditors). While one is
    queued or running, asking again returns it instead of starting a second."""
    require_platform_auditor(actor)
    running = _live().order_by("-requested_at").first()
    if running is not None:
        return running
    now = timezone.now()
    ChainVerification.objects.filter(
        status__in=[VerificationStatus.QUEUED, VerificationStatus.RUNNING]
    ).update(status=VerificationStatus.FAILED, finished_at=now, message=INTERRUPTED)
    verification = ChainVerification.objects.create(
        requested_by=actor,
        requested_at=now,
        heartbeat_at=now,
        total=AuditChainHead.objects.aggregate(n=Sum("seq"))["n"] or 0,
    )
    record_event(
        action="audit.verify_requested",
        actor=actor,
        target=verification,
        target_label="审计链校验",
        summary={"expected_events": verification.total},
    )
    # The task module imports this one (its task calls run_verification): imported here, as
    # members.importing queues its tasks.
    from hongfeng.audit import tasks

    transaction.on_commit(lambda: tasks.verify_audit_chain.enqueue(verification.pk))
    return verification


def _claim(verification_id: int) -> ChainVerification | None:
    """Move a queued (or interrupted) verification to running, once: a second worker, or the
    task run again after it finished, gets None and does nothing."""
    now = timezone.now()
    claimed = ChainVerification.objects.filter(
        Q(status=VerificationStatus.QUEUED)
        | Q(status=VerificationStatus.RUNNING, heartbeat_at__lt=_stale_before()),
        pk=verification_id,
    ).update(status=VerificationStatus.RUNNING, started_at=now, heartbeat_at=now, checked=0)
    if not claimed:
        return None
    return ChainVerification.objects.select_related("requested_by").get(pk=verification_id)


def run_verification(verification_id: int) -> ChainVerification | None:
    """The task's work: verify every chain (`verify_and_record`, which writes the audit event
    `audit.verified`), reporting progress on the row as it goes, then store the findings."""
    verification = _claim(verification_id)
    if verification is None:
        return None
    rows = ChainVerification.objects.filter(pk=verification.pk)

    def progress(checked: int) -> None:
        rows.update(checked=checked, heartbeat_at=timezone.now())

    try:
        result = verify_and_record(actor=verification.requested_by, progress=progress)
    except Exception:
        rows.update(
            status=VerificationStatus.FAILED,
            finished_at=timezone.now(),
            message="校验过程中出错，未完成。请稍后重新校验；如反复出错，请联系系统管理员。",
        )
        raise
    chains = [
        {
            "chain": c["chain"],
            "events": c["events"],
            "problems": c["problems"][:PROBLEMS_KEPT],
            "more": max(len(c["problems"]) - PROBLEMS_KEPT, 0),
        }
        for c in result["chains"]
    ]
    rows.update(
        status=VerificationStatus.DONE,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        checked=result["events"],
        ok=result["ok"],
        problem_count=sum(len(c["problems"]) for c in result["chains"]),
        chains=[c for c in chains if c["problems"]],
    )
    verification.refresh_from_db()
    return verification


def get_verification(verification_id) -> ChainVerification:
    """One verification (for platform-wide auditors, who alone start and read them)."""
    found = (
        ChainVerification.objects.select_related("requested_by")
        .filter(pk=access.parse_id(verification_id))
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def recent_verifications(*, limit: int = 10):
    return ChainVerification.objects.select_related("requested_by").order_by(
        "-requested_at", "-id"
    )[:limit]


__all__ = [
    "get_verification",
    "recent_verifications",
    "request_verification",
    "require_platform_auditor",
    "run_verification",
]
