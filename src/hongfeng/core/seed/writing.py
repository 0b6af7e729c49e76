"""Writing the seed's rows: progress lines, tables of tuples, and the writer (binary COPY on
PostgreSQL, bulk_create elsewhere)."""

import queue
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import connection, models

from hongfeng.core.seed.scales import BATCH


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
