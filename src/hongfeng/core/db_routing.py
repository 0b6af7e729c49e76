"""Reads of heavy reports and exports on a PostgreSQL streaming replica (HONGFENG_REPLICA_URL).

Routing is opt-in: a read goes to the replica only inside `using_replica()` (or a function
decorated with `@replica_reads`), and only when the default connection is not inside a
transaction. Everything else — every write, every read of a request that may write, every read
inside `transaction.atomic` — stays on the primary, so code that reads its own writes, takes row
locks or checks a capacity never sees the replica's lag. Without HONGFENG_REPLICA_URL the router
is not installed and `using_replica()` changes nothing.

Used today by the points leaderboards and level statistics (points.selectors) and the roster
export (members.exporting.export_roster): big aggregates over a whole subtree whose answer may
trail the primary by the replica's lag (normally well under a second).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"

_replica_reads: ContextVar[bool] = ContextVar("hongfeng_replica_reads", default=False)


@contextmanager
def using_replica() -> Iterator[None]:
    """Send the ORM's reads in this block to the replica (when one is configured and no
    transaction is open on the primary). Nests; a context variable, so threads and async tasks
    each have their own."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of `using_replica()` for read-only selectors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with using_replica():
            return func(*args, **kwargs)

    return wrapper


def replica_requested() -> bool:
    """Whether the current code asked for replica reads (whether or not they are routed)."""
    return _replica_reads.get()


class ReplicaRouter:
    """Installed by settings.py only when HONGFENG_REPLICA_URL is set."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        """The replica inside `using_replica()` outside a transaction; the primary otherwise —
        explicitly, so an object loaded from the replica does not drag later reads there."""
        if _replica_reads.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        """Always the primary (the replica is read-only), even when saving an object that was
        read from the replica."""
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """The replica holds the same rows as the primary, so objects from either relate."""
        aliases = {DEFAULT_DB_ALIAS, REPLICA_ALIAS}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        """Migrations run on the primary only; streaming replication carries them over."""
        if db == REPLICA_ALIAS:
            return False
        return None
