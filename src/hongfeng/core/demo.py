"""Demo data: a realistic tower, one account per role and every domain's records, built through
the real services so that the audit trail, the paths and the constraints are exactly what
production would hold.

Each app registers its part (registry.demo_steps: the three powers' accounts, the tower, the
role accounts, member files, activities, honours, points, the redemption catalogue …) and the
demo accounts (registry.demo_accounts); `build` runs the steps in their order — each after the
ones it names — in one transaction. The apps' demo modules describe what they add.

The same cast serves the test suite (tests/conftest.py), so what a newcomer clicks through in
`hongfeng demo` is what the access tests prove.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from hongfeng.core import registry
from hongfeng.core.registry import DemoAccount

# Meets the 等保 composition profile; printed by `hongfeng demo` and listed in the README.
DEMO_PASSWORD = "Hongfeng@2026"  # noqa: S105 — demo accounts only, never in production


@dataclass
class Cast:
    """The demo's units and accounts by key ("hongfeng", "captain"), as the steps fill them."""

    units: dict = field(default_factory=dict)  # key → orgs Unit
    users: dict = field(default_factory=dict)  # key → accounts User
    password: str = DEMO_PASSWORD  # of every demo account


def __getattr__(name: str) -> list[DemoAccount]:
    # ACCOUNTS: the demo accounts as the apps registered them (README, `hongfeng demo`, tests).
    if name == "ACCOUNTS":
        return list(registry.demo_accounts)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@transaction.atomic
def build(password: str = DEMO_PASSWORD) -> Cast:
    """Run every registered demo step, in order, into an empty database."""
    if settings.IS_PRODUCTION:
        raise RuntimeError("demo data is never created with production settings")
    cast = Cast(password=password)
    for step in registry.demo_steps:
        step.build(cast)
    return cast


def load() -> Cast:
    """The cast from a database that `build` filled (each step reads back what it keeps)."""
    cast = Cast()
    for step in registry.demo_steps:
        if step.load is not None:
            step.load(cast)
    return cast


def is_empty() -> bool:
    """Whether no step's data is there yet (`hongfeng demo` builds only into an empty
    database)."""
    return not any(step.exists() for step in registry.demo_steps if step.exists is not None)
