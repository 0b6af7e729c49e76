"""Background work for the audit trail (django.tasks; `hongfeng db_worker` runs it)."""

from django.tasks import task

from hongfeng.audit import verification
from hongfeng.core import context


@task
def verify_audit_chain(verification_id: int) -> None:
    """Verify the whole trail for a verification asked for on the 安全审计 page. Safe to run
    twice: only the first run claims it (a finished one is left alone)."""
    ctx = context.RequestContext(request_id=f"audit-verify-{verification_id}", channel="task")
    with context.activate(ctx):
        verification.run_verification(verification_id)
