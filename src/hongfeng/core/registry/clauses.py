"""Clause checks: the standard's requirements (红枫式义警建设与服务规范) that the platform can
verify from its own records, for the conformance engine (a later issue) to run per unit and
period and report.

Each check names its clause ("5.2.4"), the clause's normative word — 应 (shall: a failure is
non-conformance) or 宜 (should: a failure is a recommendation) — what it verifies in Chinese,
the kind of period it is judged over, and the function that judges it. The function is called as
`check(unit=…, start=…, end=…)` (the period's first and last day; for `Period.STANDING` both
are the day of the run) and returns what the conformance engine defines as a finding. A clause
may have several checks; `code` names each one stably, so stored results stay attached to it.
Nothing is registered here yet: the domain apps register their checks as the engine arrives.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hongfeng.core.registry.base import Registry, RegistryError


class Word(StrEnum):
    SHALL = "应"
    SHOULD = "宜"


class Period(StrEnum):
    STANDING = "standing"  # holds at every moment (every team has one captain)
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class ClauseCheck:
    code: str  # stable: "5.2.4-one-captain"
    clause: str  # "5.2.4"
    word: Word
    description: str  # Chinese
    period: Period
    check: Callable[..., object]


_CLAUSE = re.compile(r"^\d+(\.\d+)*$")


def _check(entry: ClauseCheck) -> None:
    if not _CLAUSE.match(entry.clause):
        raise RegistryError(f"clause check {entry.code!r}: clause {entry.clause!r} is no number")
    if not isinstance(entry.word, Word):
        raise RegistryError(f"clause check {entry.code!r}: the word is 应 or 宜 (Word)")
    if not isinstance(entry.period, Period):
        raise RegistryError(f"clause check {entry.code!r}: give a Period")
    if not entry.code.startswith(f"{entry.clause}-"):
        raise RegistryError(f"clause check {entry.code!r}: start its code with '{entry.clause}-'")
    if not entry.description:
        raise RegistryError(f"clause check {entry.code!r} needs a Chinese description")


clause_checks: Registry[ClauseCheck] = Registry("clause checks", key=lambda c: c.code, check=_check)
