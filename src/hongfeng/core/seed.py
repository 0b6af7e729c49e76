"""Seed data at scale (issue 6): a whole association tower with its police line, teams, leaders
and members (status history, skills, insurance, equipment), evaluated activities with sign-ups,
waitlists, check-ins, hours and points, and one upcoming activity per team.

Everything lives under its own root, "压测省义警协会（<scale>·种子<seed>）", and its own police
line, so a seed never mixes with the demo tower and a second run of the same scale and seed is
refused. The whole run is one transaction: an interrupted seed leaves nothing behind and can
simply be run again.

Speed and memory (province: ≈ 7.4 million rows; see bench/RESULTS.md "Province seed"):

- Rows are plain tuples written through `Writer`: binary `COPY … FROM STDIN` on PostgreSQL
  (psycopg 3), `bulk_create` elsewhere (SQLite, the embedded default). Every constraint, foreign
  key and index stays on; foreign keys are checked after each COPY rather than all at COMMIT.
  On PostgreSQL a second thread generates while the first writes, so Python and the server
  work at the same time; the server's checks and index updates are the bulk of the cost.
- Generation is streamed team by team: one team's people and activities (and a bounded queue
  of batches) are in memory at a time, so memory does not grow with the scale.
- Per-row work that would dominate is done once: all seeded accounts share one unusable
  password value (nobody logs in with a password as a seeded person — bench clients use API
  tokens; an operator sets a password with `hongfeng changepassword` if needed), pinyin is
  composed from a per-character table (checked against `pinyin_of` for every possible seeded
  name), and points awards are cached per (hours, difficulty, quality). ID numbers are still
  encrypted one by one with their blind index, so the member file and search work as usual.

Deterministic for a seed: one `Dice(seed)` (a `random.Random`) drives every choice, in an order
that does not depend on database ids. Only the encryption nonces, the security stamps and the
shared unusable password value differ between two runs. Mobile numbers and ID numbers encode
the scale and the seed, so seeds 0–99 of every scale can live side by side in one database.

Not generated (yet): audit events, level history (`LevelChange`), 1+1 partners, certificates,
trainings, notices — the services write those; the seed covers what the benchmarks read.
"""

import queue
import resource
import secrets
import sys
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import accumulate
from random import Random

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    Activity,
    ActivityKind,
    ActivityStatus,
    ActivityStatusChange,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    Difficulty,
    Effect,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
    Quality,
)
from hongfeng.core import crypto
from hongfeng.core.idnumber import check_character
from hongfeng.members.catalogue import SKILLS
from hongfeng.members.models import (
    Category,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
    MemberStatus,
    PoliticalStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.services.files import ID_INDEX, id_number_index, pinyin_of
from hongfeng.orgs.models import Unit, UnitKind
from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry, Source

BATCH = 2000  # rows per INSERT on the bulk_create path
HOUR = Decimal("0.01")
DEFAULT_LABEL = "默认规则（团体标准）"  # as hongfeng.points.services.DEFAULT_LABEL


@dataclass(frozen=True)
class Scale:
    code: int  # one digit, part of every generated mobile and ID number
    cities: int
    counties: int
    teams: int
    members: int
    checkins_per_member: int = 10  # five activities per member, a check-in and a check-out each


SCALES: dict[str, Scale] = {
    "small": Scale(0, cities=1, counties=2, teams=4, members=200),
    "county": Scale(1, cities=1, counties=1, teams=20, members=4_000),
    "city": Scale(2, cities=1, counties=10, teams=138, members=13_000),
    "province": Scale(3, cities=11, counties=90, teams=1_000, members=200_000),
}
SQUADS_PER_TEAM = 3
GROUPS_PER_SQUAD = 2
STATIONS_PER_COUNTY = 3

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"
_PLACE = "东西南北安平宁康泰和兴华云山水江湖海桥溪林石金玉嘉临清"
_ACTIVITY_TITLES = {
    ActivityKind.PATROL: "夜间巡逻守护",
    ActivityKind.PUBLICITY: "反诈防范宣传",
    ActivityKind.RISK_INSPECTION: "出租房风险排查",
    ActivityKind.CARE: "关爱独居老人",
    ActivityKind.SECURITY_DUTY: "大型活动安保勤务",
    ActivityKind.MEDIATION: "邻里矛盾化解",
}
_RISK_ASSESSMENT = "高风险任务：已完成安全风险评估，配发防护装备，民警现场指导，设置撤离路线。"
_QUALITY_WEIGHTS = [(Quality.EXCELLENT, 2), (Quality.GOOD, 5), (Quality.PASS, 3)]
_DIFFICULTY_WEIGHTS = [
    (Difficulty.NORMAL, 6),
    (Difficulty.HARDER, 2),
    (Difficulty.HARD, 1),
    (Difficulty.HIGH_RISK, 1),
]
_KINDS = list(_ACTIVITY_TITLES)
_EFFECTS = [Effect.EXCELLENT, Effect.GOOD, Effect.FAIR]
# Statuses of the rank and file (leaders are core members); every status of 5.2.7 appears.
_STATUS_WEIGHTS = [
    (MemberStatus.ACTIVE, 70),
    (MemberStatus.CORE, 8),
    (MemberStatus.PROBATION, 8),
    (MemberStatus.INACTIVE, 8),
    (MemberStatus.DEMOTED, 2),
    (MemberStatus.SUSPENDED, 2),
    (MemberStatus.EXITED, 2),
]
# The last change of a member who left "active": days before today it happened, and why.
_LATER_CHANGES = {
    MemberStatus.INACTIVE: ((10, 60), "连续30天无签到记录（5.2.7）"),
    MemberStatus.DEMOTED: ((10, 60), "长期未参加活动，经总队研究降级"),
    MemberStatus.SUSPENDED: ((5, 60), "因工作调动暂停服务"),
    MemberStatus.EXITED: ((5, 60), "本人申请退出"),
}
_CATEGORY_WEIGHTS = [
    (Category.ENTERPRISE, 30),
    (Category.GIG_WORKER, 15),
    (Category.RETIRED_CADRE, 15),
    (Category.CIVIL_SERVANT, 10),
    (Category.STUDENT, 10),
    (Category.OTHER, 20),
]
_POLITICAL_WEIGHTS = [
    (PoliticalStatus.MASSES, 60),
    (PoliticalStatus.PARTY_MEMBER, 25),
    (PoliticalStatus.LEAGUE_MEMBER, 10),
    (PoliticalStatus.PROBATIONARY, 2),
    (PoliticalStatus.DEMOCRATIC_PARTY, 3),
]
_INSURERS = ["中国人寿", "中国平安", "中国人保", "太平洋保险"]
# Leaders per team, in this order: the captain on the team, a leader on every squad and group.
_LEADER_ROLES = {
    UnitKind.TEAM: Role.CAPTAIN,
    UnitKind.SQUAD: Role.SQUAD_LEADER,
    UnitKind.GROUP: Role.GROUP_LEADER,
}


class AlreadySeeded(Exception):
    pass


def root_name(scale: str, seed: int) -> str:
    return f"压测省义警协会（{scale}·种子{seed}）"


def is_seeded(scale: str, seed: int) -> bool:
    return Unit.objects.filter(parent__isnull=True, name=root_name(scale, seed)).exists()


def person_name(rng: Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))


class Dice(Random):
    """`random.Random` with a `randint` and `choice` drawn from one `random()` call each:
    several times cheaper than the originals (≈ 0.1 µs instead of ≈ 0.6 µs, and the seed
    draws tens of millions), with a bias far below anything test data could show."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class Weights:
    """A weighted choice prepared once: `pick(rng)` is one draw and a bisection."""

    def __init__(self, pairs):
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: Random):
        return self.values[bisect_right(self.cumulative, rng.random() * self.total)]


_STATUSES = Weights(_STATUS_WEIGHTS)
_POLITICAL = Weights(_POLITICAL_WEIGHTS)
_CATEGORIES = Weights(_CATEGORY_WEIGHTS)
_DIFFICULTIES = Weights(_DIFFICULTY_WEIGHTS)
_QUALITIES = Weights(_QUALITY_WEIGHTS)


def mobile_for(scale: Scale, seed: int, n: int) -> str:
    """19 + scale digit + two seed digits + six digits of the running number."""
    return f"19{scale.code}{seed:02d}{n:06d}"


def id_number_for(scale: Scale, seed: int, n: int, rng: Random) -> str:
    """A valid GB 11643 number, unique per (scale, seed, n): the region carries the scale, the
    seed and n % 100, the birth date n // 100 (born 1960–2004), the sequence is random."""
    region = f"5{scale.code}{seed:02d}{n % 100:02d}"
    born = date(1960, 1, 1) + timedelta(days=(n // 100) * 8 + rng.randrange(8))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_character(first17)


# pypinyin needs ≈ 0.5 ms per name — 100 s for a province. Seeded names are drawn from fixed
# character pools, and composing them from per-character readings gives exactly `pinyin_of`'s
# result for every possible seeded name (checked exhaustively when this was written;
# tests/test_seed.py re-checks a sample), so the readings are looked up once per character.
_CHAR_PINYIN = {ch: pinyin_of(ch) for ch in dict.fromkeys(_SURNAMES + _GIVEN)}


def seeded_pinyin(name: str) -> tuple[str, str]:
    """`pinyin_of(name)` for a name made of the seed's characters, by table lookup."""
    parts = [_CHAR_PINYIN[ch] for ch in name]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (ru_maxrss is KiB on Linux, bytes
    on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Progress:
    """Counts rows per table and prints a progress line now and then: rows so far, rows/s over
    the whole run and over the last interval, and peak memory."""

    def __init__(self, write: Callable[[str], None], every: float = 5.0):
        self.write = write
        self.every = every
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()
        self._last = self.started
        self._last_total = 0
        self.last_elapsed = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n

    def tick(self, label: str, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self.every:
            return
        total = self.total
        elapsed = self.last_elapsed = now - self.started
        recent = (total - self._last_total) / max(now - self._last, 1e-9)
        self._last, self._last_total = now, total
        self.write(
            f"  {label}: {total:,} 行，{elapsed:.1f} 秒，平均 {total / max(elapsed, 1e-9):,.0f} "
            f"行/秒（近期 {recent:,.0f} 行/秒），峰值内存 {peak_rss_mb():,.0f} MB"
        )

    def summary(self) -> list[str]:
        """The final report: rows per table, then totals, time, rows/s and peak memory."""
        elapsed = self.last_elapsed or time.perf_counter() - self.started
        width = max(len(t) for t in self.counts)
        lines = [f"  {t:<{width}}  {n:>12,}" for t, n in sorted(self.counts.items())]
        lines.append(
            f"合计 {self.total:,} 行，用时 {elapsed:.1f} 秒，{self.total / elapsed:,.0f} 行/秒，"
            f"峰值内存 {peak_rss_mb():,.0f} MB。"
        )
        return lines


# ---- writing rows --------------------------------------------------------------------------


class Table:
    """The columns the seed fills for one model, in row order, plus a constant for every other
    concrete column: its default, NULL, or `now` for auto_now(_add) timestamps. Computed once
    from the model, so a column added later with a default needs no change here, and one
    without a default fails loudly instead of being skipped."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, now: datetime):
        self.model = model
        self.name = model._meta.db_table
        self.columns = tuple(columns)
        given = set(self.columns)
        extra: dict[str, object] = {}
        for f in model._meta.concrete_fields:
            if f.attname in given or (f.primary_key and isinstance(f, models.AutoField)):
                continue
            if f.db_default is not models.NOT_PROVIDED:
                continue  # the database fills it (COPY) or Django does (bulk_create)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                extra[f.attname] = now
            elif f.has_default() or f.null or f.empty_strings_allowed:
                # What Model() would fill in: the default (a callable one is called once, so
                # every row shares the value), else NULL or "".
                extra[f.attname] = f.get_default()
            else:
                raise ValueError(f"seed: {self.name}.{f.column} needs a value")
        self.extra_names = tuple(extra)
        self.extra_values = tuple(extra.values())
        self.all_names = self.columns + self.extra_names
        self.db_columns = [model._meta.get_field(n).column for n in self.all_names]


class Writer:
    """Where the generated rows go: binary `COPY … FROM STDIN` on PostgreSQL, `bulk_create`
    in batches elsewhere.

    On PostgreSQL generation and writing overlap: the generator runs in a second thread and
    hands batches over a bounded queue to the thread that owns the transaction (`consume`), so
    Python builds the next team while the server checks and indexes the last one. New primary
    keys are drawn from each table's own sequence before the rows are written (`ids=True`), so
    the generator never waits for an insert; the draws use the generator thread's own
    connection, outside the transaction (sequences are not transactional, so that is safe).
    Tables nobody points at are collected across teams and written in large batches.

    Elsewhere (SQLite) everything happens at once in the calling thread; `bulk_create` returns
    the new keys."""

    BUFFER_ROWS = 10_000  # rows per COPY for the tables collected across teams
    QUEUE_TASKS = 16  # batches in flight: bounds the memory the overlap costs

    def __init__(self, progress: Progress):
        self.progress = progress
        self.copy = connection.vendor == "postgresql"
        self.queue: queue.Queue | None = None  # set while a generator thread feeds `consume`
        self.failed = threading.Event()  # the consumer gave up: the generator must stop
        self._buffers: dict[Table, list[tuple]] = {}
        self._sequences: dict[str, str] = {}
        self._types: dict[str, dict[str, int]] = {}

    # ---- the generator's side ----------------------------------------------------------------

    def insert(self, table: Table, rows: list[tuple], *, ids: bool = False) -> list[int]:
        """Write `rows` of `table` (now or soon); with `ids=True`, return their new keys."""
        if not rows:
            return []
        if not self.copy:
            new_ids = self._bulk(table, rows, ids)
            self.progress.add(table.name, len(rows))
            return new_ids
        if ids:
            new_ids = self._reserve(table, len(rows))
            self._send((table, rows, new_ids))
            return new_ids
        buffer = self._buffers.setdefault(table, [])
        buffer.extend(rows)
        if len(buffer) >= self.BUFFER_ROWS:
            self._send((table, buffer, []))
            self._buffers[table] = []
        return []

    def call(self, fn: Callable[[], object]) -> None:
        """Run `fn` where the rows are written, after everything inserted before it."""
        self._send(fn)

    def flush(self) -> None:
        """Send the collected rows. Only tables nobody points at are collected, so their order
        does not matter — whatever they point at was sent before them."""
        for table, rows in self._buffers.items():
            if rows:
                self._send((table, rows, []))
        self._buffers = {}

    def _send(self, task) -> None:
        if self.queue is None:
            self._execute(task)
            return
        while True:  # never block for good on a consumer that has failed
            if self.failed.is_set():
                raise RuntimeError("the writer stopped")
            try:
                self.queue.put(task, timeout=0.5)
                return
            except queue.Full:
                continue

    def _reserve(self, table: Table, n: int) -> list[int]:
        """n new keys from the table's sequence (on this thread's connection)."""
        with connection.cursor() as cursor:
            if table.name not in self._sequences:
                pk = table.model._meta.pk.column
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table.name, pk])
                self._sequences[table.name] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [self._sequences[table.name], n],
            )
            return sorted(r[0] for r in cursor.fetchall())

    # ---- the writing side --------------------------------------------------------------------

    def consume(self) -> None:
        """Write what the generator sends until it sends None (done) or an exception."""
        tasks = self.queue
        if tasks is None:
            raise RuntimeError("no generator is running")
        try:
            while True:
                task = tasks.get()
                if task is None:
                    return
                if isinstance(task, BaseException):
                    raise task
                self._execute(task)
        except BaseException:
            self.failed.set()
            raise

    def _execute(self, task) -> None:
        if callable(task):
            task()
            return
        table, rows, ids = task
        self._copy(table, rows, ids)
        self.progress.add(table.name, len(rows))

    def _bulk(self, table: Table, rows: list[tuple], ids: bool) -> list[int]:
        names, extra = table.all_names, table.extra_values
        objs = [table.model(**dict(zip(names, (*row, *extra), strict=True))) for row in rows]
        table.model.objects.bulk_create(objs, batch_size=BATCH)
        return [o.pk for o in objs] if ids else []

    def _column_types(self, cursor, table: Table) -> dict[str, int]:
        """Column name → type oid, read from the catalogue once per table (binary COPY needs
        the exact types; JSON columns then take Python objects as they are)."""
        if table.name not in self._types:
            cursor.execute(
                "SELECT attname, atttypid::int FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [connection.ops.quote_name(table.name)],
            )
            self._types[table.name] = dict(cursor.fetchall())
        return self._types[table.name]

    def _copy(self, table: Table, rows: list[tuple], ids: list[int]) -> None:
        quote = connection.ops.quote_name
        columns = ([table.model._meta.pk.column] if ids else []) + table.db_columns
        sql = (
            f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            "FROM STDIN (FORMAT BINARY)"
        )
        extra = table.extra_values
        with connection.cursor() as cursor:
            types = self._column_types(cursor, table)
            # cursor.copy is psycopg 3's COPY API, reached through Django's cursor wrapper.
            # Binary rows are ≈ 3× cheaper to produce than text ones (no datetime formatting).
            with cursor.copy(sql) as copy:
                copy.set_types([types[c] for c in columns])
                write = copy.write_row
                if ids:
                    for pk_value, row in zip(ids, rows, strict=True):
                        write((pk_value, *row, *extra))
                else:
                    for row in rows:
                        write((*row, *extra))


# ---- the people of one team ----------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    id: int
    name: str
    kind: str
    path: str
    depth: int
    team_id: int | None  # own id for a team

    @property
    def team_id_or_self(self) -> int:
        return self.team_id or self.id


@dataclass(slots=True)
class _Person:
    """One seeded member while their team is generated."""

    n: int
    name: str
    id_number: str
    unit: _Unit
    status: str
    role: str
    joined: date
    trained: date
    history: list  # [(from, to, at, reason)]
    policies: list  # [(starts_on, ends_on)]
    skills: list
    gear: bool  # holds protective gear (needed for high-risk tasks, 5.4.7)
    since: date  # first day they could join an activity (trained and insured)
    until: date  # last such day (before a suspension, exit or inactivity)
    user_id: int = 0
    member_id: int = 0
    earned: Decimal = field(default_factory=Decimal)


@dataclass(slots=True)
class _Plan:
    """One past activity of a team before it is written."""

    kind: str
    starts: datetime
    ends: datetime
    difficulty: str
    capacity: int
    lat: float
    lon: float
    effect: str
    confirmed: list[_Person]
    waitlisted: list[_Person]

    @property
    def published(self) -> datetime:
        return self.starts - timedelta(days=3)

    @property
    def created(self) -> datetime:
        return self.published - timedelta(hours=1)

    @property
    def evaluated(self) -> datetime:
        return self.ends + timedelta(days=1)

    def row(self, team: _Unit, captain: int) -> tuple:
        """The activity's row for `Seeder.t_activity`: evaluated, checked out by the sweep."""
        swept = self.ends + CHECKOUT_GRACE
        return (
            self.kind, _ACTIVITY_TITLES[self.kind], team.id, team.id, f"{team.name}辖区",
            self.lat, self.lon, self.starts, self.ends, self.capacity, len(self.confirmed),
            len(self.waitlisted), self.difficulty,
            _RISK_ASSESSMENT if self.difficulty == Difficulty.HIGH_RISK else "",
            ActivityStatus.EVALUATED, swept, swept, self.effect, captain, self.published,
            self.published, self.evaluated, self.created,
        )  # fmt: skip


# Timedeltas the hot loop would otherwise build millions of times.
_SECONDS = [timedelta(seconds=i) for i in range(1, 31)]
_MINUTES = [timedelta(minutes=i) for i in range(601)]
_HOURS = [timedelta(hours=i) for i in range(61)]


def _place_names(rng: Random, count: int, suffix: str) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = "".join(rng.sample(_PLACE, 2)) + suffix
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


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
        self._award_cache: dict[tuple, rules.Award] = {}
        self._hours_cache: dict[int, Decimal] = {}
        now = self.now
        t = partial(Table, now=now)
        self.t_unit = t(Unit, ("name", "kind", "parent_id", "path", "depth", "team_id",
                               "guiding_station_id"))  # fmt: skip
        self.t_user = t(User, ("mobile", "name", "password", "security_stamp", "date_joined"))
        self.t_role = t(
            RoleAssignment,
            ("user_id", "role", "unit_id", "granted_by_id", "granted_at", "revoked_by_id",
             "revoked_at", "revoke_reason"),
        )  # fmt: skip
        self.t_member = t(
            Member,
            ("user_id", "unit_id", "name", "name_pinyin", "name_initials", "id_number_encrypted",
             "id_number_index", "id_last4", "birth_date", "gender", "address", "political_status",
             "category", "status", "status_changed_at", "joined_on", "pre_job_training_on",
             "created_at"),
        )  # fmt: skip
        self.t_status = t(
            StatusChange,
            ("member_id", "from_status", "to_status", "reason", "changed_by_id", "changed_at"),
        )
        self.t_skill = t(Member.skills.through, ("member_id", "skill_id"))
        self.t_policy = t(
            InsurancePolicy, ("member_id", "insurer", "policy_number", "starts_on", "ends_on")
        )
        self.t_gear = t(EquipmentIssue, ("member_id", "kind", "issued_on", "returned_on"))
        self.t_activity = t(
            Activity,
            ("kind", "title", "unit_id", "audience_unit_id", "place", "latitude", "longitude",
             "starts_at", "ends_at", "capacity", "confirmed_count", "waitlist_count",
             "difficulty", "risk_assessment", "status", "checkout_due_at", "checkouts_swept_at",
             "effect", "created_by_id", "published_at", "broadcast_done_at", "evaluated_at",
             "created_at"),
        )  # fmt: skip
        self.t_history = t(
            ActivityStatusChange,
            ("activity_id", "from_status", "to_status", "changed_by_id", "changed_at"),
        )
        self.t_participation = t(
            Participation,
            ("activity_id", "member_id", "status", "queued_at", "updated_at", "quality",
             "rated_by_id", "rated_at"),
        )  # fmt: skip
        self.t_checkin = t(
            CheckIn,
            ("activity_id", "member_id", "kind", "method", "client_id", "at", "device_time",
             "received_at", "latitude", "longitude", "accuracy_m", "distance_m",
             "recorded_by_id"),
        )  # fmt: skip
        self.t_hours = t(
            HoursEntry,
            ("activity_id", "member_id", "hours", "source", "recorded_by_id", "recorded_at"),
        )
        self.t_points = t(
            PointsEntry,
            ("member_id", "team_id", "activity_id", "source", "amount", "earned", "rule_label",
             "inputs", "explanation", "key", "created_by_id", "created_at"),
        )  # fmt: skip
        self.t_totals = t(MemberPoints, ("member_id", "earned", "balance", "level"))

    # ---- accounts ----------------------------------------------------------------------------

    def _users(self, people: list[tuple[int, str, datetime]]) -> list[int]:
        """Accounts for (running number, name, joined at); returns their ids."""
        rows = [
            (
                mobile_for(self.scale, self.seed, n),
                name,
                self.password,
                secrets.token_hex(16),  # as new_security_stamp(): never predictable
                joined_at,
            )
            for n, name, joined_at in people
        ]
        return self.writer.insert(self.t_user, rows, ids=True)

    def _officials(self, units: list[_Unit], role: str) -> None:
        """One account with `role` over each unit (association admins, police officers)."""
        people = []
        for _unit in units:
            self.person += 1
            people.append((self.person, person_name(self.rng), self.now - timedelta(days=800)))
        ids = self._users(people)
        self.writer.insert(
            self.t_role,
            [
                (uid, role, unit.id, self.actor_id, self.now - timedelta(days=800), None, None, "")
                for uid, unit in zip(ids, units, strict=True)
            ],
        )

    # ---- the tower ---------------------------------------------------------------------------

    def _units(self, rows: list[tuple[str, str, _Unit | None, int | None, int | None]]):
        """Insert units given as (name, kind, parent, team id, guiding station id) and give
        them the path and depth `create_unit` would: the parent's path plus "<own id>/", one
        level below the parent (a root: "/<id>/", depth 0). The path needs the new id, so rows
        go in with a placeholder and one UPDATE sets every path from the parent's."""
        marker = f"tmp:{uuid.uuid4().hex}:"
        ids = self.writer.insert(
            self.t_unit,
            [
                (name, kind, parent.id if parent else None, f"{marker}{i}",
                 parent.depth + 1 if parent else 0, team_id, station_id)
                for i, (name, kind, parent, team_id, station_id) in enumerate(rows)
            ],
            ids=True,
        )  # fmt: skip
        self.writer.call(partial(_set_paths, marker))
        return [
            _Unit(
                id=pk,
                name=name,
                kind=kind,
                path=f"{parent.path if parent else '/'}{pk}/",
                depth=parent.depth + 1 if parent else 0,
                team_id=team_id if kind != UnitKind.TEAM else pk,
            )
            for pk, (name, kind, parent, team_id, _s) in zip(ids, rows, strict=True)
        ]

    def build_tower(self) -> list[tuple[_Unit, list[_Unit], list[_Unit]]]:
        """Associations and police line down to the teams with their squads and groups, and
        the officials over them. Returns [(team, [squads…], [groups…])…]."""
        s, rng = self.scale, self.rng
        tag = f"{self.scale_name}·种子{self.seed}"
        self.root, self.bureau = self._units(
            [
                (root_name(self.scale_name, self.seed), UnitKind.PROVINCE_ASSOCIATION, None,
                 None, None),
                (f"压测省公安厅（{tag}）", UnitKind.PROVINCE_BUREAU, None, None, None),
            ]
        )  # fmt: skip
        city_names = _place_names(rng, s.cities, "市")
        cities = self._units(
            [(f"{n}义警协会", UnitKind.CITY_ASSOCIATION, self.root, None, None) for n in city_names]
            + [(f"{n}公安局", UnitKind.CITY_BUREAU, self.bureau, None, None) for n in city_names]
        )
        city_assocs, city_bureaus = cities[: s.cities], cities[s.cities :]
        county_a, county_b = [], []
        for i, per_city in enumerate(_split(s.counties, s.cities)):
            for name in _place_names(rng, per_city, "县"):
                county_a.append(
                    (f"{name}义警协会", UnitKind.COUNTY_ASSOCIATION, city_assocs[i], None, None)
                )
                county_b.append(
                    (f"{name}公安局", UnitKind.COUNTY_BUREAU, city_bureaus[i], None, None)
                )
        counties = self._units(county_a + county_b)
        county_assocs, county_bureaus = counties[: s.counties], counties[s.counties :]
        stations = self._units(
            [
                (f"{name}派出所", UnitKind.STATION, cb, None, None)
                for cb in county_bureaus
                for name in _place_names(rng, STATIONS_PER_COUNTY, "")
            ]
        )
        team_rows = []
        for i, per_county in enumerate(_split(s.teams, s.counties)):
            own = stations[i * STATIONS_PER_COUNTY : (i + 1) * STATIONS_PER_COUNTY]
            for j, name in enumerate(_place_names(rng, per_county, "")):
                station = rng.choice(own)
                team_rows.append(
                    (f"{name}义警总队{j + 1}", UnitKind.TEAM, county_assocs[i], None, station.id)
                )
        teams = self._units(team_rows)
        squads = self._units(
            [
                (f"第{k + 1}分队", UnitKind.SQUAD, team, team.id, None)
                for team in teams
                for k in range(SQUADS_PER_TEAM)
            ]
        )
        groups = self._units(
            [
                (f"第{k + 1}小组", UnitKind.GROUP, squad, squad.team_id, None)
                for squad in squads
                for k in range(GROUPS_PER_SQUAD)
            ]
        )
        self._officials(city_assocs + county_assocs, Role.ASSOCIATION_ADMIN)
        self._officials(county_bureaus, Role.BUREAU_OFFICER)
        self._officials(stations, Role.STATION_OFFICER)
        self._tick("组织架构与各级管理员", force=True)
        g, q = GROUPS_PER_SQUAD, SQUADS_PER_TEAM
        return [
            (team, squads[i * q : (i + 1) * q], groups[i * q * g : (i + 1) * q * g])
            for i, team in enumerate(teams)
        ]

    # ---- one team ----------------------------------------------------------------------------

    def _plan_person(self, unit: _Unit, role: str) -> _Person:
        """Who one member is: identity, status and its history, training, insurance, skills,
        equipment, and the days on which they could serve (all from the one rng)."""
        rng, today = self.rng, self.today
        self.person += 1
        n = self.person
        name = person_name(rng)
        number = id_number_for(self.scale, self.seed, n, rng)
        status = MemberStatus.CORE if role != Role.VOLUNTEER else _STATUSES.pick(rng)
        if status == MemberStatus.PROBATION:
            joined = today - timedelta(days=rng.randint(35, 85))
        elif role != Role.VOLUNTEER:
            joined = today - timedelta(days=rng.randint(800, 1900))
        else:
            joined = today - timedelta(days=rng.randint(400, 1900))
        trained = joined + timedelta(days=rng.randint(3, 30))
        at = partial(self._at, rng)
        history = [("", MemberStatus.PROBATION, at(joined), "登记入队")]
        until = today
        if status != MemberStatus.PROBATION:
            history.append(
                (MemberStatus.PROBATION, MemberStatus.ACTIVE,
                 at(joined + timedelta(days=rng.randint(90, 120))), "见习期满，转为正式队员")
            )  # fmt: skip
        if status == MemberStatus.CORE:
            day = joined + timedelta(days=rng.randint(200, 390))
            history.append((MemberStatus.ACTIVE, status, at(day), "表现突出，评为核心队员"))
        elif status in _LATER_CHANGES:
            (lo, hi), reason = _LATER_CHANGES[status]
            day = today - timedelta(days=rng.randint(lo, hi))
            history.append((MemberStatus.ACTIVE, status, at(day), reason))
            # No service in the 30 days before going inactive or demoted; none after leaving.
            until = day - timedelta(days=30 if status in ("inactive", "demoted") else 1)
        if status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
            ended = history[-1][2].date()
            policies = [(max(ended - timedelta(days=365), joined), ended)]
        else:
            # Insured on the day they joined and without a gap since: a policy running today
            # (at least 35 more days, so an upcoming activity is covered) and the year before.
            start = max(today - timedelta(days=rng.randint(0, 330)), joined)
            policies = [(start, start + timedelta(days=364))]
            if joined < start:
                policies.insert(
                    0, (max(start - timedelta(days=365), joined), start - timedelta(days=1))
                )
        skills = rng.sample(self.skill_ids, rng.choice([0, 0, 1, 1, 1, 2, 2, 3]))
        gear = role != Role.VOLUNTEER or status == MemberStatus.CORE or rng.random() < 0.4
        return _Person(
            n=n, name=name, id_number=number, unit=unit, status=status, role=role,
            joined=joined, trained=trained, history=history, policies=policies, skills=skills,
            gear=gear, since=max(trained, policies[0][0]), until=until,
        )  # fmt: skip

    def _at(self, rng: Random, day: date) -> datetime:
        """An office-hours moment on `day`, never later than the seed's `now`."""
        hour, minute = rng.randint(8, 17), rng.choice([0, 15, 30, 45])
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        return min(moment, self.now)

    def seed_team(self, team: _Unit, squads: list[_Unit], groups: list[_Unit], members: int):
        """Leaders and members of one team with everything in their files, then the team's
        activities. Leaders come first: the captain on the team, one per squad and group."""
        rng = self.rng
        leaders = [team, *squads, *groups][:members]
        people = [self._plan_person(u, _LEADER_ROLES[u.kind]) for u in leaders]
        people += [
            self._plan_person(rng.choice(groups), Role.VOLUNTEER)
            for _ in range(members - len(leaders))
        ]
        user_ids = self._users([(p.n, p.name, p.history[0][2]) for p in people])
        for p, uid in zip(people, user_ids, strict=True):
            p.user_id = uid
        captain = people[0].user_id
        member_rows = []
        for p in people:
            number = p.id_number
            pinyin, initials = seeded_pinyin(p.name)
            member_rows.append(
                (
                    p.user_id, p.unit.id, p.name, pinyin, initials,
                    crypto.encrypt(number, field=ID_INDEX), id_number_index(number), number[-4:],
                    date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    "male" if int(number[16]) % 2 else "female",
                    f"{team.name}辖区{rng.choice(_PLACE)}{rng.randint(1, 300)}号",
                    _POLITICAL.pick(rng), _CATEGORIES.pick(rng),
                    p.status, p.history[-1][2], p.joined, p.trained, p.history[0][2],
                )
            )  # fmt: skip
        member_ids = self.writer.insert(self.t_member, member_rows, ids=True)
        for p, mid in zip(people, member_ids, strict=True):
            p.member_id = mid
        w = self.writer
        w.insert(
            self.t_status,
            [
                (p.member_id, frm, to, reason, captain, changed)
                for p in people
                for frm, to, changed, reason in p.history
            ],
        )
        w.insert(self.t_role, [self._role_row(p, captain) for p in people])
        w.insert(self.t_skill, [(p.member_id, s) for p in people for s in p.skills])
        w.insert(
            self.t_policy,
            [
                (p.member_id, _INSURERS[p.n % len(_INSURERS)],
                 f"YW{self.scale.code}{self.seed:02d}{p.n:06d}-{k + 1}", start, end)
                for p in people
                for k, (start, end) in enumerate(p.policies)
            ],
        )  # fmt: skip
        gear_rows = []
        for p in people:
            returned = p.until + timedelta(days=1) if p.status == MemberStatus.EXITED else None
            gear_rows.append((p.member_id, EquipmentKind.UNIFORM, p.trained, returned))
            if p.gear:
                gear_rows.append((p.member_id, EquipmentKind.PROTECTIVE_GEAR, p.trained, returned))
        w.insert(self.t_gear, gear_rows)
        self._past_activities(team, people, captain)
        self._upcoming_activity(team, people, captain)
        w.insert(
            self.t_totals,
            [(p.member_id, p.earned, p.earned, rules.level_of(p.earned)) for p in people],
        )

    def _role_row(self, p: _Person, captain: int) -> tuple:
        """The member's role in the team (as register_member grants it); a suspension or exit
        ended it (as change_status does), so the row is kept as revoked history."""
        granted = p.history[0][2] if p.role == Role.VOLUNTEER else p.history[-1][2]
        granted_by = self.actor_id if p.role == Role.CAPTAIN else captain
        if p.status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
            _from, _to, at, reason = p.history[-1]
            return (p.user_id, p.role, p.unit.id, granted_by, granted, captain, at, reason)
        return (p.user_id, p.role, p.unit.id, granted_by, granted, None, None, "")

    def _award(self, hours: Decimal, difficulty: str, quality: str) -> rules.Award:
        key = (hours, difficulty, quality)
        award = self._award_cache.get(key)
        if award is None:
            award = self._award_cache[key] = rules.activity_points(
                rules.DEFAULT, hours=hours, difficulty=difficulty, quality=quality
            )
        return award

    def _hours(self, seconds: int) -> Decimal:
        hours = self._hours_cache.get(seconds)
        if hours is None:
            hours = self._hours_cache[seconds] = _seconds_to_hours(seconds)
        return hours

    def _past_activities(self, team: _Unit, people: list[_Person], captain: int) -> None:
        """Evaluated activities of the past year until the team's members hold five confirmed
        participations each on average (so check-ins come to exactly ten per member). Only
        members who could serve that day are picked (trained, insured, not yet gone; protective
        gear for high-risk tasks); about one activity in ten was full and kept a short
        waitlist. This loop writes most of the seed's rows, so it avoids per-row object work:
        timedeltas come from tables, draws from `Dice`."""
        rng, now, w = self.rng, self.now, self.writer
        r = rng.random
        target = len(people) * self.scale.checkins_per_member // 2
        # Most people could serve on any day of the past year; only the others are checked
        # against each activity's day.
        earliest = self.today - timedelta(days=362)
        steady = [p for p in people if p.since <= earliest and p.until >= self.today]
        steady_gear = [p for p in steady if p.gear]
        limited = [p for p in people if not (p.since <= earliest and p.until >= self.today)]
        plans: list[_Plan] = []
        booked = misses = 0
        while booked < target:
            kind = rng.choice(_KINDS)
            starts = now - timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 12))
            ends = starts + _HOURS[rng.choice((2, 3, 4))]
            difficulty = _DIFFICULTIES.pick(rng)
            first = timezone.localtime(starts, self.zone).date()
            last = timezone.localtime(ends, self.zone).date()
            high_risk = difficulty == Difficulty.HIGH_RISK
            pool = (steady_gear if high_risk else steady) + [
                p
                for p in limited
                if p.since <= first and last <= p.until and (p.gear or not high_risk)
            ]
            if not pool:
                misses += 1
                if misses > 1000:  # nobody can ever serve: stop rather than spin
                    break
                continue
            size = min(len(pool), rng.randint(8, 20), target - booked)
            confirmed = rng.sample(pool, size)
            waitlisted: list[_Person] = []
            if r() < 0.1 and len(pool) > size:
                taken = {p.n for p in confirmed}
                rest = [p for p in pool if p.n not in taken]
                waitlisted = rng.sample(rest, min(len(rest), rng.randint(1, 3)))
                capacity = size
            else:
                capacity = size + rng.randint(0, 5)
            plans.append(
                _Plan(kind=kind, starts=starts, ends=ends, difficulty=difficulty,
                      capacity=capacity, lat=30.0 + r(), lon=120.0 + r(),
                      effect=rng.choice(_EFFECTS), confirmed=confirmed, waitlisted=waitlisted)
            )  # fmt: skip
            booked += size
        activity_ids = w.insert(
            self.t_activity, [plan.row(team, captain) for plan in plans], ids=True
        )
        history, participations, checkins, hours_rows, points_rows = [], [], [], [], []
        gps, qr, confirmed_status = (
            CheckInMethod.GPS,
            CheckInMethod.QR,
            ParticipationStatus.CONFIRMED,
        )
        checked_in, checked_out = CheckInKind.IN, CheckInKind.OUT
        getrandbits, new_uuid = rng.getrandbits, uuid.UUID
        for activity_id, plan in zip(activity_ids, plans, strict=True):
            title, lat, lon = _ACTIVITY_TITLES[plan.kind], plan.lat, plan.lon
            starts, ends, difficulty = plan.starts, plan.ends, plan.difficulty
            published, rated_at = plan.published, plan.evaluated
            history += [
                (activity_id, "", ActivityStatus.DRAFT, captain, plan.created),
                (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
                # The sweep moves an activity along the clock (changed_by NULL = the platform).
                (activity_id, ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, None, starts),
                (activity_id, ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED, None, ends),
                (activity_id, ActivityStatus.FINISHED, ActivityStatus.EVALUATED, captain, rated_at),
            ]  # fmt: skip
            for p in plan.confirmed:
                member_id = p.member_id
                quality = _QUALITIES.pick(rng)
                queued = published + _MINUTES[rng.randint(1, 600)]
                participations.append(
                    (activity_id, member_id, confirmed_status, queued, rated_at, quality, captain,
                     rated_at)
                )  # fmt: skip
                # Inside the window: in up to 20 minutes late, out up to 20 minutes early.
                at_in = starts + _MINUTES[int(r() * 21)]
                at_out = ends - _MINUTES[int(r() * 21)]
                checkins.append(
                    (activity_id, member_id, checked_in, gps if r() < 0.8 else qr,
                     new_uuid(int=getrandbits(128)), at_in, at_in, at_in + _SECONDS[int(r() * 30)],
                     lat, lon, float(5 + int(r() * 36)), float(int(r() * 201)), p.user_id)
                )  # fmt: skip
                checkins.append(
                    (activity_id, member_id, checked_out, gps if r() < 0.8 else qr,
                     new_uuid(int=getrandbits(128)), at_out, at_out,
                     at_out + _SECONDS[int(r() * 30)], lat, lon, float(5 + int(r() * 36)),
                     float(int(r() * 201)), p.user_id)
                )  # fmt: skip
                hours = self._hours(int((at_out - at_in).total_seconds()))
                hours_rows.append(
                    (activity_id, member_id, hours, HoursSource.CHECKINS, captain, rated_at)
                )
                award = self._award(hours, difficulty, quality)
                points_rows.append(
                    (member_id, p.unit.team_id_or_self, activity_id, Source.ACTIVITY, award.points,
                     award.points, DEFAULT_LABEL, award.inputs,
                     f"{title}：{award.explanation}"[:300], f"activity:{activity_id}:{member_id}",
                     captain, rated_at)
                )  # fmt: skip
                p.earned += award.points
            for p in plan.waitlisted:  # still waiting when the activity ran; never promoted
                queued = published + _HOURS[rng.randint(12, 60)]
                participations.append(
                    (activity_id, p.member_id, ParticipationStatus.WAITLISTED, queued, queued,
                     "", None, None)
                )  # fmt: skip
        w.insert(self.t_history, history)
        w.insert(self.t_participation, participations)
        w.insert(self.t_checkin, checkins)
        w.insert(self.t_hours, hours_rows)
        w.insert(self.t_points, points_rows)

    def _upcoming_activity(self, team: _Unit, people: list[_Person], captain: int) -> None:
        """One published patrol next week with its sign-ups (full, with a waitlist, in one
        team of three), so home pages and activity lists have something open. Its broadcast
        counts as done, so the sweep does not send one for every seeded team."""
        rng, now = self.rng, self.now
        starts = now + timedelta(days=rng.randint(3, 10), hours=rng.randint(0, 8))
        ends = starts + timedelta(hours=3)
        published = now - timedelta(days=rng.randint(1, 2))
        pool = [p for p in people if p.status in (MemberStatus.ACTIVE, MemberStatus.CORE)]
        capacity = rng.randint(15, 30)
        size = min(len(pool), rng.randint(capacity // 2, capacity + 4))
        chosen = rng.sample(pool, size)
        confirmed, waitlisted = chosen[:capacity], chosen[capacity:]
        kind = ActivityKind.PATROL
        (activity_id,) = self.writer.insert(
            self.t_activity,
            [
                (kind, _ACTIVITY_TITLES[kind], team.id, team.id, f"{team.name}辖区",
                 30.0 + rng.random(), 120.0 + rng.random(), starts, ends, capacity,
                 len(confirmed), len(waitlisted), Difficulty.NORMAL, "", ActivityStatus.PUBLISHED,
                 ends + CHECKOUT_GRACE, None, "", captain, published, published, None,
                 published - timedelta(hours=1))
            ],
            ids=True,
        )  # fmt: skip
        self.writer.insert(
            self.t_history,
            [
                (activity_id, "", ActivityStatus.DRAFT, captain, published - timedelta(hours=1)),
                (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
            ],
        )
        rows = []
        for i, p in enumerate(confirmed + waitlisted):
            queued = min(published + timedelta(minutes=5 * i + rng.randint(0, 4)), now)
            status = (
                ParticipationStatus.CONFIRMED if i < capacity else ParticipationStatus.WAITLISTED
            )
            rows.append((activity_id, p.member_id, status, queued, queued, "", None, None))
        self.writer.insert(self.t_participation, rows)

    # ---- the whole run -----------------------------------------------------------------------

    def _skills(self) -> list[int]:
        """The skill catalogue's ids (a flushed test database has lost the migration's rows)."""
        for code, name in SKILLS:
            Skill.objects.get_or_create(code=code, defaults={"name": name})
        return list(
            Skill.objects.filter(code__in=[c for c, _ in SKILLS])
            .order_by("code")
            .values_list("pk", flat=True)
        )

    def _tick(self, label: str, *, force: bool = False) -> None:
        """A progress line once the rows generated so far are written."""
        self.writer.call(partial(self.progress.tick, label, force=force))

    def generate(self) -> None:
        """Every row, in an order where nothing points at a row not yet sent."""
        (self.actor_id,) = self._users([(0, "压测管理员", self.now - timedelta(days=900))])
        teams = self.build_tower()
        self.writer.insert(
            self.t_role,
            [(self.actor_id, Role.ASSOCIATION_ADMIN, self.root.id, None,
              self.now - timedelta(days=900), None, None, "")],
        )  # fmt: skip
        per_team = _split(self.scale.members, len(teams))
        for i, ((team, squads, groups), members) in enumerate(
            zip(teams, per_team, strict=True), start=1
        ):
            self.seed_team(team, squads, groups, members)
            self._tick(f"第 {i}/{len(teams)} 支总队（{team.name}）")
        self.writer.flush()

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
        self.skill_ids = self._skills()
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


def _set_paths(marker: str) -> None:
    """One UPDATE: every unit whose path starts with `marker` gets its parent's path plus its
    own id (a root: "/<id>/"). Runs where the units were written, in the same transaction."""
    parent_path = Unit.objects.filter(pk=OuterRef("parent_id")).values("path")[:1]
    Unit.objects.filter(path__startswith=marker).update(
        path=Concat(
            Coalesce(Subquery(parent_path), Value("/")),
            Cast("pk", CharField()),
            Value("/"),
            output_field=CharField(),
        )
    )


def _seconds_to_hours(seconds: float) -> Decimal:
    from hongfeng.activities.services.completion import _hours

    return _hours(seconds)


def clipped_hours(starts: datetime, ends: datetime, at_in: datetime, at_out: datetime) -> Decimal:
    """The check-in span clipped to the activity window, in hours to two places (as
    hongfeng.activities.services.completion.computed_hours counts a pair)."""
    lo, hi = max(at_in, starts), min(at_out, ends)
    return _seconds_to_hours(max((hi - lo).total_seconds(), 0.0))
