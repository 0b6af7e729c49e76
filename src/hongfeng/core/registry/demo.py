"""Demo and seed steps: `hongfeng demo` and `hongfeng seed` build their data by running what the
apps register, each app its own part, ordered by what each needs first (`after`).

- A demo step `build(cast)` adds its app's demo records through the app's real services and
  may put what later steps need into the cast; `load(cast)` (optional) puts them into a cast
  read back from a database that a build filled; `exists()` (optional) says whether its data
  is already there (`hongfeng demo` builds only into an empty database).
- The demo accounts (one per role, README) are registered as `DemoAccount`s.
- A seed step `run(seeding)` writes its app's rows through the seeder's writer
  (hongfeng.core.seed); a per-team step runs once for every team, in order, with
  `seeding.team` set. Every step draws from the one `seeding.rng`, so the order of the steps is
  part of what makes a seed reproducible. `prepare(seeding)` (optional) reads what the step
  needs from the database before the run; `exists(scale, seed)` (optional) says whether that
  scale and seed were seeded already.
"""

from collections.abc import Callable
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, by_dependencies


@dataclass(frozen=True)
class DemoStep:
    name: str  # "members.files"
    build: Callable[..., None]  # build(cast)
    after: tuple[str, ...] = ()
    load: Callable[..., None] | None = None  # load(cast)
    exists: Callable[[], bool] | None = None


@dataclass(frozen=True)
class DemoAccount:
    key: str  # how tests and the cast name it: "captain"
    name: str
    mobile: str
    role: str  # a role of hongfeng.accounts (the Role member, so `.label` reads it in Chinese)
    unit_key: str | None  # a key of the demo tower; None = platform-wide
    note: str


@dataclass(frozen=True)
class SeedStep:
    name: str  # "members.people"
    run: Callable[..., None]  # run(seeding)
    after: tuple[str, ...] = ()
    per_team: bool = False
    label: str = ""  # a run step's progress line once it is written (Chinese)
    prepare: Callable[..., None] | None = None  # prepare(seeding): reads before the transaction
    exists: Callable[[str, int], bool] | None = None  # exists(scale, seed): already seeded?


demo_steps: Registry[DemoStep] = Registry("demo steps", key=lambda s: s.name, sort=by_dependencies)
demo_accounts: Registry[DemoAccount] = Registry("demo accounts", key=lambda a: a.key)
seed_steps: Registry[SeedStep] = Registry("seed steps", key=lambda s: s.name, sort=by_dependencies)
