"""Writing and verifying the audit trail."""

import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from hongfeng.audit.actions import ACTIONS
from hongfeng.audit.models import AuditChainHead, AuditEvent
from hongfeng.core import context, hotpath
from hongfeng.core.masking import mask_text

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "chain": event.chain,
        "seq": event.seq,
        "prev": event.prev_hash,
        "at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target": [event.target_type, event.target_id, event.target_label],
        "unit": event.unit_id,
        "ip": event.ip,
        "request": event.request_id,
        "channel": event.channel,
        "summary": event.summary,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(message: bytes) -> str:
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).hexdigest()


def compute_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 with a key the database does not hold, so rows cannot be re-forged from SQL."""
    return _mac(_canonical(event))


def head_mac(chain: int, seq: int, last_hash: str) -> str:
    """The chain head's own seal: without the key, nobody can wind a head back after deleting
    the newest events of its chain."""
    return _mac(f"head:{chain}:{seq}:{last_hash}".encode())


def _ensure_heads() -> None:
    """Create, sealed, every chain head the configuration asks for (idempotent)."""
    AuditChainHead.objects.bulk_create(
        [
            AuditChainHead(chain=i, seq=0, hash=GENESIS_HASH, mac=head_mac(i, 0, GENESIS_HASH))
            for i in range(settings.AUDIT_STRIPES)
        ],
        ignore_conflicts=True,
    )


def _claim_head(inserting: Model | None = None) -> AuditChainHead:
    """Lock one chain head for the rest of the transaction; `inserting`, a new row the event
    is about, is inserted on the way — on PostgreSQL in the same round trip as the claim.

    A transaction keeps the head it first took, so one long transaction writing many events
    holds one chain, not all of them. A new transaction prefers a head nobody holds (PostgreSQL
    SKIP LOCKED), so concurrent writers spread over the chains instead of queueing."""
    held = getattr(connection, "_hongfeng_audit_head", None)
    # The marker is an on-commit callback of the transaction that claimed the head; Django
    # drops the callbacks when that transaction commits or rolls back, so finding it still
    # queued means we are in the same transaction.
    if held is not None and any(entry[1] is held[0] for entry in connection.run_on_commit):
        head = _head_where("t0.chain = %s", [held[1]], inserting, skip_locked=False)
        if head is not None:
            return head
        inserting = None  # inserted by that statement
    head = None
    if connection.features.has_select_for_update_skip_locked:
        head = _free_head(inserting)
        inserting = None  # inserted by _free_head's statement
    if inserting is not None:
        hotpath.insert(inserting)
    head = head or _any_head()

    def release() -> None:
        connection._hongfeng_audit_head = None

    transaction.on_commit(release)
    connection._hongfeng_audit_head = (release, head.chain)
    return head


def _head_where(where: str, params, inserting: Model | None, *, skip_locked: bool, order=""):
    """The first chain head matching `where`, locked; `inserting` inserted in the same
    statement (core.hotpath: SQL built once — every audited write passes here)."""
    if inserting is not None:
        return hotpath.insert_and_fetch_one(
            inserting,
            AuditChainHead,
            where,
            params,
            order=order,
            lock=True,
            skip_locked=skip_locked,
        )
    return hotpath.fetch_one(
        AuditChainHead, where, params, order=order, lock=True, skip_locked=skip_locked
    )


def _free_head(inserting: Model | None) -> AuditChainHead | None:
    """A head no other transaction holds, starting at a random chain and wrapping around (one
    statement), or None when every head is busy."""
    stripes = settings.AUDIT_STRIPES
    start = random.randrange(stripes)  # noqa: S311 — load spreading, not security
    return _head_where(
        "t0.chain < %s",
        [stripes, start],
        inserting,
        skip_locked=True,
        order="(t0.chain < %s), t0.chain",
    )


# The chain this process writes its guarded events to (see head_as_it_stands); None until the
# first one — after gunicorn's fork, so every worker draws its own.
_own_chain: int | None = None


def head_as_it_stands() -> tuple[hotpath.RowSelect, list]:
    """PostgreSQL: a chain head as it stands (not locked) and the parameters to read it, for a
    hot path that reads the head inside its own read and then writes the row and its event
    without a transaction: `guarded_event` moves the head only from where it was read. Its
    result may be None (no heads yet): then `record_event` as usual.

    The chain is this process's own until another writer moves it under one of our writes
    (`head_was_taken`): then another, drawn at random — so the app servers' workers settle
    on chains of their own and seldom write again."""
    global _own_chain
    if _own_chain is None:
        _own_chain = random.randrange(settings.AUDIT_STRIPES)  # noqa: S311 — load spreading
    return hotpath.row_select(AuditChainHead, "t0.chain = %s"), [_own_chain]


def head_was_taken() -> None:
    """Another writer moved the head of this process's chain under a guarded event: draw a
    new chain for the next one."""
    global _own_chain
    _own_chain = random.randrange(settings.AUDIT_STRIPES)  # noqa: S311


def _any_head() -> AuditChainHead:
    """Every head busy (or none created yet, or SQLite, which serialises writers anyway)."""
    _ensure_heads()
    chain = random.randrange(settings.AUDIT_STRIPES)  # noqa: S311
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def _clean_summary(value):
    """Summaries must never carry plaintext personal data: free text is masked recursively."""
    if isinstance(value, str):
        return mask_text(value)[:500]
    if isinstance(value, dict):
        return {str(k): _clean_summary(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_summary(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Model):
        if value.pk is None:
            raise ValueError(f"an unsaved {value._meta.label} cannot be named in a summary")
        return value.pk
    return mask_text(str(value))[:500]


def _unsaved_event(
    ctx,
    now,
    *,
    action: str,
    actor=None,
    target=None,
    target_label: str | None = None,
    unit=None,
    summary: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """One event as `record_events` writes it (the actions were checked there)."""
    if target is not None:
        target_type, target_id = target._meta.label_lower, str(target.pk)
        label = target_label if target_label is not None else str(target)
    else:
        target_type, target_id, label = "", "", target_label or ""
    if actor_label is None:
        actor_label = str(actor) if actor else ""
    return AuditEvent(
        occurred_at=now,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=mask_text(actor_label)[:80],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=mask_text(label)[:120],
        unit=unit,
        ip=ctx.ip or "",
        request_id=ctx.request_id,
        channel=ctx.channel,
        summary=_clean_summary(summary or {}),
    )


def record_events(specs: list[dict], *, inserting: Model | None = None) -> list[AuditEvent]:
    """Append several audit events (each spec: the keyword arguments of `record_event`) to one
    chain inside the caller's transaction — one head claim and one bulk insert, for bulk
    operations such as a roster import. `inserting`: a new row the events are about, inserted
    first (see `record_event`)."""
    if not specs:
        return []
    unknown = [spec["action"] for spec in specs if spec["action"] not in ACTIONS]
    if unknown:  # before anything is written (the events are built after the head's claim)
        raise ValueError(f"unknown audit action {unknown[0]!r}")
    # No savepoint inside the caller's transaction: an audit write that fails must take the
    # business write down with it anyway, and a savepoint costs two round trips per event.
    with transaction.atomic(savepoint=False):
        head = _claim_head(inserting)
        # built once the row has its primary key: a summary may name the row itself
        events, move_head = _chained(head, specs)
        if len(events) == 1:
            # The common case: the event and the head's move in one round trip, without the
            # ORM's SQL compiler.
            hotpath.insert_and_execute(events[0], *move_head)
        else:
            AuditEvent.objects.bulk_create(events, batch_size=500)
            hotpath.execute(*move_head)
    return events


def _chained(head: AuditChainHead, specs: list[dict]) -> tuple[list[AuditEvent], tuple]:
    """The events of `specs`, sealed one after another on `head`'s chain, and the statement
    that moves the head past them."""
    ctx, now = context.current(), timezone.now()
    events = [_unsaved_event(ctx, now, **spec) for spec in specs]
    seq, prev = head.seq, head.hash
    for event in events:
        seq += 1
        event.chain, event.seq, event.prev_hash = head.chain, seq, prev
        event.hash = compute_hash(event)
        prev = event.hash
    move_head = (
        "UPDATE audit_auditchainhead SET seq = %s, hash = %s, mac = %s WHERE chain = %s",
        [seq, prev, head_mac(head.chain, seq, prev), head.chain],
    )
    return events, move_head


def guarded_event(head: AuditChainHead, **spec) -> tuple[AuditEvent, tuple]:
    """One event (the keyword arguments of `record_event`) sealed on `head` as read with
    `head_as_it_stands`, and the guard that moves the head on — only from where it was read —
    for `core.hotpath.write_if`: the head's move as the last guard, the event among the
    inserts. If another writer moved that head meanwhile, nothing is written (the caller reads
    again and retries), so the chain never forks and never skips."""
    if spec["action"] not in ACTIONS:
        raise ValueError(f"unknown audit action {spec['action']!r}")
    events, (sql, params) = _chained(head, [spec])
    return events[0], (f"{sql} AND seq = %s", [*params, head.seq])


def record_event(
    *,
    action: str,
    actor=None,
    target=None,
    target_label: str | None = None,
    unit=None,
    summary: dict | None = None,
    actor_label: str | None = None,
    inserting: Model | None = None,
) -> AuditEvent:
    """Append one audit event inside the caller's transaction (so it commits or rolls back with
    the write it describes). `target` is any model instance; its label is masked.

    `inserting`: the new row the event records (unsaved, an auto primary key, no signals — as
    `core.hotpath.insert` takes it), inserted first; on PostgreSQL its INSERT and the claim of
    the chain head travel in one round trip. The summary may name it (or any model instance):
    summaries keep instances as their primary keys."""
    return record_events(
        [
            {
                "action": action,
                "actor": actor,
                "target": target,
                "target_label": target_label,
                "unit": unit,
                "summary": summary,
                "actor_label": actor_label,
            }
        ],
        inserting=inserting,
    )[0]


@dataclass
class ChainReport:
    """What `verify_chains` found in one chain."""

    chain: int
    events: int = 0
    problems: list[str] = field(default_factory=list)


# How often a long verification reports how far it got (rows).
PROGRESS_EVERY = 5000


def _gap(expected_seq: int, event: AuditEvent) -> str:
    """A break in the sequence, said as what it means: rows missing (deleted) or a number
    that repeats or goes back (a row inserted)."""
    if event.seq > expected_seq:
        missing = (
            str(expected_seq)
            if event.seq == expected_seq + 1
            else f"{expected_seq}–{event.seq - 1}"
        )
        return (
            f"序号不连续：序号 {missing} 的记录缺失（被删除），"
            f"其后为事件 {event.pk}（序号 {event.seq}）"
        )
    return f"序号不连续：事件 {event.pk} 的序号 {event.seq} 重复或倒退（插入的记录）"


def verify_chains(progress: Callable[[int], None] | None = None) -> list[ChainReport]:
    """Recompute every chain. A modified row breaks its own hash, an inserted or deleted row
    breaks the sequence or the link to its neighbour, a deleted tail disagrees with the head.
    `progress`, if given, is told the number of rows checked so far every PROGRESS_EVERY rows
    (a background verification shows it)."""
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = (
        set(heads)
        | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
        | (set(range(settings.AUDIT_STRIPES)) if heads else set())
    )
    reports, checked = [], 0
    for chain in sorted(chains):
        report = ChainReport(chain=chain)
        expected_seq, prev = 1, GENESIS_HASH
        events = AuditEvent.objects.filter(chain=chain).order_by("seq")
        for event in events.iterator(chunk_size=2000):
            report.events += 1
            checked += 1
            if progress is not None and checked % PROGRESS_EVERY == 0:
                progress(checked)
            if event.seq != expected_seq:
                report.problems.append(_gap(expected_seq, event))
            if event.prev_hash != prev:
                report.problems.append(f"事件 {event.pk}（序号 {event.seq}）与前一条的链接断开")
            if not hmac.compare_digest(event.hash, compute_hash(event)):
                report.problems.append(
                    f"事件 {event.pk}（序号 {event.seq}）签名不符：内容被修改，或是伪造插入的记录"
                )
            expected_seq, prev = event.seq + 1, event.hash
        head = heads.get(chain)
        if head is None:
            report.problems.append("缺少链头记录（整条链可能被删除）")
        elif not hmac.compare_digest(head.mac, head_mac(chain, head.seq, head.hash)):
            report.problems.append("链头封印不符：链头被改动")
        elif head.seq != expected_seq - 1 or head.hash != prev:
            report.problems.append(
                f"链尾与链头不符：链头序号 {head.seq}，实际最后序号 {expected_seq - 1}"
                "（末尾记录被删除或插入）"
            )
        reports.append(report)
    return reports


def verify_and_record(*, actor=None, progress: Callable[[int], None] | None = None) -> dict:
    """Verify every chain and leave an audit event saying what was found (`progress`: see
    `verify_chains`)."""
    reports = verify_chains(progress)
    events = sum(r.events for r in reports)
    ok = not any(r.problems for r in reports)
    with transaction.atomic():
        record_event(
            action="audit.verified",
            actor=actor,
            actor_label=None if actor else "运维命令",
            summary={
                "ok": ok,
                "events": events,
                "chains": len(reports),
                "broken": [r.chain for r in reports if r.problems],
            },
        )
    return {
        "ok": ok,
        "events": events,
        "chains": [{"chain": r.chain, "events": r.events, "problems": r.problems} for r in reports],
    }
