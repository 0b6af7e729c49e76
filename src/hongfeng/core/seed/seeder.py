"""The seeder: runs the seed steps the apps register (registry.seed_steps) — the tower and its
officials once, then team by team the people, activities, check-ins, hours and points — writing
through one writer, in one transaction.

The seeder is also the steps' shared state: the dice, the clock, the writer and its tables, a
running number for people, and what one step leaves for the next under a name of its own (the
tower's `teams`; a team's `people` and `captain`; the activities' `settled` hours). Every step
draws from the one `rng`, so the steps' order is part of what makes a seed reproducible."""

import queue
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from hongfeng.core import registry
from hongfeng.core.seed.plan import SeedUnit, split_evenly
from hongfeng.core.seed.scales import SCALES, AlreadySeeded, Dice, root_name
from hongfeng.core.seed.writing import Progress, Table, Writer


def is_seeded(scale: str, seed: int) -> bool:
    """Whether this scale and seed are in the database already (a step that knows says so)."""
    return any(step.exists(scale, seed) for step in registry.seed_steps if step.exists)


class Seeder:
    """Generates one scale for one seed; `run()` does it all in one transaction."""

    def __init__(self, scale: str, seed: int, write: Callable[[str], None] | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}")
        if not 0 <= seed <= 99:
            raise ValueError("seed must be 0–99")
        self.scale_name, self.scale, self.seed = scale, SCALES[scale], seed
        # Deterministic test data, not security: the same seed must give the same rows.
        self.rng = Dice(seed)
        self.write = write or partial(print, flush=True)
        self.progress = Progress(self.write)
        self.writer = Writer(self.progress)
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.zone = timezone.get_current_timezone()
        self.today = timezone.localtime(self.now, self.zone).date()
        self.person = 0  # running number for mobiles and ID numbers
        # One unusable password value for every seeded account (see the module docstring):
        # make_password(None) costs ≈ 0.3 ms, a minute at province scale.
        self.password = make_password(None)
        self._tables: dict[tuple, Table] = {}
        # Set by the steps (see the module docstring).
        self.teams: list[tuple[SeedUnit, list[SeedUnit], list[SeedUnit]]] = []
        self.team: SeedUnit | None = None
        self.squads: list[SeedUnit] = []
        self.groups: list[SeedUnit] = []
        self.team_size = 0

    def table(self, model: type[models.Model], columns: Sequence[str]) -> Table:
        """The writer's table for these columns of `model` (one per run: rows of a table are
        collected across teams)."""
        key = (model, tuple(columns))
        if key not in self._tables:
            self._tables[key] = Table(model, columns, now=self.now)
        return self._tables[key]

    def next_person(self) -> int:
        self.person += 1
        return self.person

    def tick(self, label: str, *, force: bool = False) -> None:
        """A progress line once the rows generated so far are written."""
        self.writer.call(partial(self.progress.tick, label, force=force))

    # ---- the whole run -----------------------------------------------------------------------

    def generate(self) -> None:
        """Every step: the run's own (the tower, its officials), then every team's, in an order
        where nothing points at a row not yet sent."""
        steps = list(registry.seed_steps)
        for step in steps:
            if not step.per_team:
                step.run(self)
                if step.label:
                    self.tick(step.label, force=True)
        shares = split_evenly(self.scale.members, len(self.teams))
        for i, ((team, squads, groups), members) in enumerate(
            zip(self.teams, shares, strict=True), start=1
        ):
            self.seed_team(team, squads, groups, members)
            self.tick(f"第 {i}/{len(self.teams)} 支总队（{team.name}）")
        self.writer.flush()

    def seed_team(self, team: SeedUnit, squads: list, groups: list, members: int) -> None:
        """One team: every per-team step, in order."""
        self.team, self.squads, self.groups, self.team_size = team, squads, groups, members
        for step in registry.seed_steps:
            if step.per_team:
                step.run(self)

    def _generate_in_thread(self) -> None:
        """`generate` on a second thread feeding `Writer.consume` on this one (PostgreSQL)."""
        writer = self.writer
        writer.queue = queue.Queue(maxsize=Writer.QUEUE_TASKS)

        def produce() -> None:
            try:
                self.generate()
                writer.queue.put(None)
            except BaseException as exc:  # handed to the consumer, which raises it
                if not writer.failed.is_set():
                    writer.queue.put(exc)
            finally:
                connection.close()  # this thread's own connection (sequence draws only)

        thread = threading.Thread(target=produce, name="seed-generator", daemon=True)
        thread.start()
        try:
            writer.consume()
        finally:
            writer.failed.set()  # a no-op after success; stops the generator after a failure
            thread.join()
            writer.queue = None

    def run(self) -> Progress:
        """Everything, in one transaction; refuses a scale and seed already in the database."""
        if is_seeded(self.scale_name, self.seed):
            raise AlreadySeeded(
                f"数据库中已有 {self.scale_name} 规模、种子 {self.seed} 的压测数据"
                f"（「{root_name(self.scale_name, self.seed)}」），未做任何改动。"
            )
        postgres = connection.vendor == "postgresql"
        # Catalogues are read here, on this thread (on PostgreSQL `generate` runs on another,
        # whose connection is only for sequence draws).
        for step in registry.seed_steps:
            if step.prepare is not None:
                step.prepare(self)
        with transaction.atomic():
            if postgres:
                # Django declares foreign keys DEFERRABLE INITIALLY DEFERRED: in one long
                # transaction every check would queue up until COMMIT (memory in the server,
                # minutes of silence at the end). Checked after each COPY instead — the same
                # checks, and the progress lines tell the truth.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._generate_in_thread()
            else:
                self.generate()
        self.progress.tick("写入完成", force=True)
        if postgres:
            # What autovacuum would do after a bulk load, done now: fresh statistics for good
            # plans, and the visibility map that lets counts read indexes only (a city's
            # 31,600 member files: 45 → 5 ms). VACUUM cannot run inside a transaction (a
            # caller's, such as a test's): there, the statistics only.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for table in sorted(self.progress.counts):
                    cursor.execute(f"{command} {connection.ops.quote_name(table)}")
            self.progress.tick(f"{command}（{time.perf_counter() - started:.1f} 秒）", force=True)
        return self.progress
