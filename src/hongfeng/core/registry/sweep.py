"""Sweep steps: `hongfeng sweep` runs every registered step in order, once (cron) or every N
seconds (--loop), and prints each step's count.

A step is a deadline made real (architecture.md): rows carry an indexed due column
(`checkout_due_at`, `due_at`) and the step claims the due ones with a conditional UPDATE (or an
insert that ignores duplicates), so running it twice — or two sweeps at once — does no harm.
`run(now) -> int` returns how many rows it moved.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, RegistryError, by_dependencies

_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


@dataclass(frozen=True)
class SweepStep:
    name: str  # "<app>.<what it counts>": "activities.started"
    label: str  # Chinese, for `hongfeng sweep --help`
    run: Callable[..., int]  # run(now) -> rows moved
    after: tuple[str, ...] = ()


def _check(step: SweepStep) -> None:
    if not _NAME.match(step.name):
        raise RegistryError(f"sweep step {step.name!r}: name it '<app>.<what>'")


sweep_steps: Registry[SweepStep] = Registry(
    "sweep steps", key=lambda s: s.name, sort=by_dependencies, check=_check
)
