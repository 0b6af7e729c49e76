"""What every benchmark scenario shares: the bench-only keys, the database set-up, the production
server started and stopped by the bench, the memory sampler, the HTTP load generator, the
statistics and raw database connections for the hand-written SQL baselines."""

import http.client
import itertools
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

# Not secrets: they protect nothing but the benchmark database. Production refuses the
# development defaults, so the server, the seed and this process agree on these instead (the
# seed encrypts ID numbers with the field key, the server must read them back).
BENCH_KEYS = {
    "HONGFENG_SECRET_KEY": "bench-only-secret-key-not-for-any-real-deployment-0123456789abcdef",
    "HONGFENG_AUDIT_KEY": "bench-only-audit-key-not-for-any-real-deployment",
    "HONGFENG_FIELD_KEY": "bench-only-field-key-not-for-any-real-deployment",
    "HONGFENG_BLIND_INDEX_KEY": "bench-only-blind-index-key-not-for-any-real-deployment",
}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hongfeng_bench"


# ---- the database --------------------------------------------------------------------------


def is_postgres(database_url: str) -> bool:
    """Whether the URL names a PostgreSQL database (else SQLite)."""
    return database_url.startswith(("postgres://", "postgresql://"))


def bench_environment(database_url: str) -> None:
    """This process's environment as the server's (same keys, same database), with background
    tasks run inline (the bench queues nothing it would have to wait for)."""
    os.environ.update(BENCH_KEYS)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongfeng.settings")
    os.environ.setdefault("HONGFENG_TASKS", "immediate")
    os.environ.setdefault("HONGFENG_ALLOWED_HOSTS", "testserver,127.0.0.1")


def setup(database_url: str, *, migrate: bool = True) -> None:
    """Create the database when missing (PostgreSQL), set Django up against it and migrate."""
    bench_environment(database_url)
    if is_postgres(database_url):
        import psycopg

        base, name = database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


class RawDatabase:
    """Plain DB-API connections outside Django, for the hand-written SQL baselines: psycopg on
    PostgreSQL, sqlite3 on SQLite. Queries are written with %s placeholders (psycopg's); on
    SQLite they become ?."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.postgres = is_postgres(database_url)

    def connect(self):
        """A new connection in autocommit mode (each query stands alone, as a web request's)."""
        if self.postgres:
            import psycopg

            return psycopg.connect(
                self.url.replace("postgres://", "postgresql://", 1), autocommit=True
            )
        from django.conf import settings

        # each connection is opened here and used by one client thread
        conn = sqlite3.connect(
            settings.DATABASES["default"]["NAME"], timeout=20, check_same_thread=False
        )
        conn.isolation_level = None
        return conn

    def sql(self, text: str) -> str:
        """The query in this driver's placeholder style."""
        return text if self.postgres else text.replace("%s", "?")

    def text_agg(self, expression: str) -> str:
        """Comma-joined text of `expression` over a group, in this dialect."""
        return f"string_agg({expression}, ',')" if self.postgres else f"group_concat({expression})"

    def params(self, params) -> tuple:
        """The parameters as this database compares them: SQLite keeps datetimes as text in
        naive UTC (as Django writes them), so an aware datetime is written the same way — its
        default rendering ("…+08:00") would compare as a string, hours off."""
        if self.postgres:
            return tuple(params)
        from django.db import connection

        return tuple(
            connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime) else p
            for p in params
        )

    def run(self, conn, text: str, params=()) -> list[tuple]:
        """Execute one query and fetch every row it returns."""
        cursor = conn.cursor()
        try:
            cursor.execute(self.sql(text), self.params(params))
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()


def repeat_sql(db: RawDatabase, queries: list[tuple[str, tuple]], clients: int) -> tuple:
    """Run every (sql, params) once from `clients` threads, each with its own connection — the
    same concurrency as the HTTP side. Returns ([(milliseconds, rows)…], wall seconds)."""
    results: list = [None] * len(queries)
    failures: list[BaseException] = []
    counter = itertools.count()
    connections = [db.connect() for _ in range(clients)]
    gate = threading.Barrier(clients + 1)

    def client(conn) -> None:
        gate.wait()
        while (i := next(counter)) < len(queries):
            sql, params = queries[i]
            started = time.perf_counter()
            try:
                rows = db.run(conn, sql, params)
            except Exception as exc:  # reported by the caller's thread, not lost in this one
                failures.append(exc)
                return
            results[i] = ((time.perf_counter() - started) * 1000, rows)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for conn in connections:
        conn.close()
    if failures:
        raise RuntimeError(f"hand-written SQL failed: {failures[0]!r}") from failures[0]
    return results, seconds


# ---- memory --------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    """The direct children of a process, from /proc (gunicorn's workers of its master)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # the command may hold spaces and parentheses: the parent id follows the last ")"
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class RssSampler:
    """Samples, in a background thread, the RSS of some processes — the server's workers (the
    master's children) or this process — and keeps the peak since the last `reset`."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.2):
        self._pids = pids
        self.interval = interval
        self._peak = 0.0
        self.overall = 0.0  # the peak over the sampler's whole life
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @classmethod
    def of_children(cls, master_pid: int) -> "RssSampler":
        """Sample every worker of a gunicorn master; the worker list is re-read every second
        (a worker that died is replaced by a new pid)."""
        cache = {"at": 0.0, "pids": []}

        def pids() -> list[int]:
            now = time.monotonic()
            if now - cache["at"] > 1:
                cache["pids"], cache["at"] = children_of(master_pid), now
            return cache["pids"]

        return cls(pids)

    @classmethod
    def of_self(cls) -> "RssSampler":
        """Sample this process (the in-process scenarios)."""
        return cls(lambda: [os.getpid()])

    def start(self) -> "RssSampler":
        """Start sampling."""
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> float:
        """Take one sample now (also called at the start and end of every scenario)."""
        largest = max((rss_mb(pid) for pid in self._pids()), default=0.0)
        with self._lock:
            self._peak = max(self._peak, largest)
            self.overall = max(self.overall, largest)
        return largest

    def reset(self) -> None:
        """Start a new window: the peak from now on."""
        with self._lock:
            self._peak = 0.0
        self.sample()

    def peak(self) -> float:
        """The largest RSS (MB) of any sampled process since the last reset."""
        self.sample()
        with self._lock:
            return self._peak

    def stop(self) -> None:
        """Stop the sampling thread."""
        self._stop.set()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    """The processes of the PostgreSQL cluster holding the bench database — its postmaster and
    everything the postmaster started — when it runs on this machine and its data directory
    can be read; else none (another cluster on the machine is not counted)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            data_directory = cursor.fetchone()[0]
        with open(Path(data_directory) / "postmaster.pid") as pid_file:
            postmaster = int(pid_file.readline())
    except (OSError, ValueError, DatabaseError):  # elsewhere, unreadable, not PostgreSQL
        return []
    return [postmaster, *children_of(postmaster)]


class CpuMeter:
    """Where a scenario's CPU went, per request: the server (gunicorn's master and workers),
    the local PostgreSQL's processes and this process (the client threads), from /proc — so a
    ratio to a baseline can be read as work, not only as throughput."""

    def __init__(self, server: "Server"):
        self.server_pid = server.process.pid
        self.postgres = is_postgres(server.database_url)

    def _groups(self) -> dict[str, list[int]]:
        return {
            "server": [self.server_pid, *children_of(self.server_pid)],
            "postgres": _postgres_pids() if self.postgres else [],
            "client": [os.getpid()],
        }

    def start(self) -> dict[str, dict[int, float]]:
        """A snapshot to pass to `per_request`."""
        return {k: {p: cpu_seconds(p) for p in pids} for k, pids in self._groups().items()}

    def per_request(self, before: dict, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request by group since `before` (processes that started
        meanwhile count from zero)."""
        spent = {}
        for group, pids in self._groups().items():
            # a pid that was reused meanwhile (a new process) counts from zero, never below
            total = sum(
                max(cpu_seconds(p) - before[group].get(p, 0.0), 0.0)
                if p in before[group]
                else cpu_seconds(p)
                for p in pids
            )
            spent[group] = total / max(requests, 1) * 1000
        return spent


def describe_cpu(spent: dict[str, float]) -> str:
    """'server 3.1, PostgreSQL 1.2, client 0.4 ms' (PostgreSQL left out when not local)."""
    parts = [f"server {spent['server']:.2f}"]
    if spent["postgres"]:
        parts.append(f"PostgreSQL {spent['postgres']:.2f}")
    parts.append(f"client {spent['client']:.2f}")
    return ", ".join(parts) + " ms of CPU per request"


# ---- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collect_static(target: Path) -> None:
    """The static files and their manifest, as `hongfeng collectstatic` leaves them, for the
    server to resolve `{% static %}` in production. Hashing only: WhiteNoise's gzip and brotli
    copies take about two minutes on a 2-core machine, and the bench never downloads a static
    file — the server reads the same staticfiles.json either way."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=str(target)):
        call_command("collectstatic", interactive=False, verbosity=0)


class Server:
    """`hongfeng serve` (gunicorn sync workers) with production settings and the bench keys, on
    a free port, its output in a log file. The process is gunicorn's master; its children are
    the workers."""

    def __init__(self, database_url: str, workers: int):
        self.database_url = database_url
        self.port = _free_port()
        self.workers = workers
        self.workdir = Path(tempfile.mkdtemp(prefix="hongfeng-bench-"))
        self.log_path = self.workdir / "server.log"
        collect_static(self.workdir / "static")
        env = {
            **os.environ,
            **BENCH_KEYS,
            "DATABASE_URL": database_url,
            "HONGFENG_ENV": "production",
            "HONGFENG_DEBUG": "false",
            "HONGFENG_TASKS": "database",
            "HONGFENG_ALLOWED_HOSTS": "127.0.0.1",
            "HONGFENG_DATA_DIR": str(self.workdir),
            "HONGFENG_STATIC_ROOT": str(self.workdir / "static"),
            "HONGFENG_LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        command = [sys.executable, "-m", "hongfeng", "serve"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        self.log = self.log_path.open("wb")
        # Fixed arguments, never user input. Its own session: a Ctrl-C in the terminal reaches
        # the bench, which then stops the server itself.
        self.process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.memory = RssSampler.of_children(self.process.pid).start()

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /healthz answers 200 (the workers have imported Django and reached the
        database)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        """Graceful stop (gunicorn lets its workers finish), then a kill of the whole process
        group if it does not go within 15 s."""
        self.memory.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def errors(self) -> str:
        """Error lines and tracebacks from the server's log."""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(line for line in text.splitlines() if "ERROR" in line or "Trace" in line)


@contextmanager
def running_server(database_url: str, workers: int) -> Iterator[Server]:
    """A started server, stopped on leaving — also on error and Ctrl-C."""
    from django.db import connections

    connections.close_all()  # SQLite: no lock held by this process while the server writes
    server = Server(database_url, workers)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# ---- load ----------------------------------------------------------------------------------


def bearer(token: str) -> dict:
    """Headers for an API request with a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def cookie(session_key: str) -> dict:
    """Headers for a page request with a session cookie."""
    from django.conf import settings

    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}


def drive(port: int, requests: list[tuple], clients: int) -> tuple[list[tuple], float]:
    """Send every (method, path, headers, body) once from `clients` threads, each keeping its
    own connection (gunicorn's sync workers close it after each response; http.client reopens
    it). Returns (status, milliseconds, parsed JSON body or {"bytes": n}) per request, and the
    wall time."""
    results: list = [None] * len(requests)
    counter = itertools.count()
    start_gate = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_gate.wait()
        while (i := next(counter)) < len(requests):
            method, path, auth, body = requests[i]
            headers = {
                "Host": "127.0.0.1",
                # as the TLS-terminating proxy in front of production sets it
                "X-Forwarded-Proto": "https",
                **auth,
            }
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                is_json = "json" in (response.getheader("Content-Type") or "")
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                results[i] = (0, (time.perf_counter() - started) * 1000, {"error": repr(exc)})
                continue
            elapsed = (time.perf_counter() - started) * 1000
            parsed: dict = {"bytes": len(data)}
            if is_json and data:
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = {"raw": data[:200].decode(errors="replace")}
            results[i] = (status, elapsed, parsed)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


# ---- statistics ----------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method: never outside the observed range)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def latency(timings: list[float]) -> dict:
    """p50, p95 and p99 of a list of milliseconds."""
    return {
        "p50": statistics.median(timings),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
    }


def tally(items) -> dict:
    """How many times each item occurs, in first-seen order."""
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts
