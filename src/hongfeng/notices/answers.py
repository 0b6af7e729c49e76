"""Notices that ask the recipient for an answer — an activity broadcast (一呼百应) offers 报名 and
婉拒 — and where that answer stands now. The inbox must not offer 报名 for an activity the
member already joined, nor for one that is over: it shows the real state instead.

The notices app sits below the domains that send such notices and imports none of them: each
domain registers, from its AppConfig.ready(), how to read the state of its notices' subjects."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerState:
    """Where the recipient's answer stands: `status` picks the badge colour (the shared status
    colours), `label` is what they read."""

    status: str
    label: str


# notice kind → resolver(user, notices) → {notice id: AnswerState}; a notice left out is still
# open for an answer.
_RESOLVERS: dict[str, Callable] = {}


def register(kind: str, resolver: Callable) -> None:
    """Called by the domain that sends notices of `kind` (from its AppConfig.ready())."""
    _RESOLVERS[kind] = resolver


def states_of(user, notices: Iterable) -> dict[int, AnswerState]:
    """The answer state of each notice that asks for one (one resolver call per kind on the
    page, so a page of notices costs a fixed number of queries)."""
    by_kind: dict[str, list] = {}
    for notice in notices:
        if notice.kind in _RESOLVERS:
            by_kind.setdefault(notice.kind, []).append(notice)
    states: dict[int, AnswerState] = {}
    for kind, rows in by_kind.items():
        states.update(_RESOLVERS[kind](user, rows))
    return states
