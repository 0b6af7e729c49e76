"""The one table every scenario reports into, and its section in bench/RESULTS.md."""

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN = "<!-- bench:begin (written by `python -m bench --write`; edits inside are replaced) -->"
END = "<!-- bench:end -->"
SECTION_TITLE = "## All scenarios: `python -m bench`"


@dataclass
class Row:
    """One line of the table. Latencies in ms, memory in MB, time in s; None = not applicable.
    `ok` is None when the row has no target of its own."""

    scenario: str
    work: str
    seconds: float | None = None
    throughput: float | None = None
    rate_unit: str = "req/s"
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    rss: float | None = None
    rss_of: str = "server"  # "server": the largest gunicorn worker; "bench": this process
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # wrong results, not slow ones

    def fail(self, message: str) -> None:
        """A correctness problem: the row is MISSED whatever its timings, and the bench exits
        non-zero."""
        self.errors.append(message)
        self.notes.append(message)
        self.ok = False


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def _rate(row: Row) -> str:
    if row.throughput is None:
        return ""
    digits = 0 if row.throughput >= 100 else 1
    return f"{row.throughput:,.{digits}f} {row.rate_unit}"


def _rss(row: Row) -> str:
    if row.rss is None:
        return ""
    return f"{row.rss:,.0f}" + (" (bench)" if row.rss_of == "bench" else "")


def _result(row: Row) -> str:
    return {None: "", True: "OK", False: "MISSED"}[row.ok]


HEADER = [
    "scenario",
    "work",
    "time s",
    "throughput",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "peak RSS MB",
    "baseline",
    "ratio",
    "target",
    "",
]


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table (readable in a terminal as it is)."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for row in rows:
        cells = [
            row.scenario,
            row.work,
            _num(row.seconds, 2),
            _rate(row),
            _num(row.p50),
            _num(row.p95),
            _num(row.p99),
            _rss(row),
            row.baseline,
            _num(row.ratio, 2),
            row.target,
            _result(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    """Every row's notes (outcomes, checks, plans), one bullet each."""
    return "\n".join(f"- {row.scenario}: {note}" for row in rows for note in row.notes)


# ---- the machine ---------------------------------------------------------------------------


def memory_gib() -> float:
    """Total memory from /proc/meminfo, in GiB."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def git_commit() -> str:
    """The checked-out commit (short), marked when the working tree has changes."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        # fixed arguments, never user input
        done = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607 — git from PATH, as a developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def database_version() -> str:
    """The database engine and version, as the bench process sees it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        return f"PostgreSQL {major}.{rest % 100}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def machine() -> str:
    """Cores, memory, Python and database in one line."""
    return (
        f"{os.cpu_count()} cores, {memory_gib():.0f} GiB RAM, Python {platform.python_version()}, "
        f"{database_version()}"
    )


# ---- RESULTS.md ----------------------------------------------------------------------------


def section(rows: list[Row], header: str) -> str:
    """The marked block: how it was measured, the table and the notes."""
    return "\n".join(
        [
            BEGIN,
            "",
            header,
            "",
            table(rows),
            "",
            "Details printed by the run:",
            "",
            notes(rows),
            "",
            END,
        ]
    )


def write(rows: list[Row], header: str, path: Path = RESULTS) -> None:
    """Replace the marked block of RESULTS.md with this run (or add it, with its title, after
    the file's introduction — before the first per-issue section); nothing else changes."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = section(rows, header)
    if BEGIN.split(" (")[0] in text and END in text:
        start = text.index(BEGIN.split(" (")[0])
        end = text.index(END) + len(END)
        text = text[:start] + block + text[end:]
    else:
        anchor = text.find("\n## ")
        insert = f"\n{SECTION_TITLE}\n\n{block}\n"
        text = text + insert if anchor < 0 else text[:anchor] + "\n" + insert + text[anchor:]
    path.write_text(text)


def header(*, scale: str, quick: bool, database: str, load_before, load_after) -> str:
    """The lines above the table: the command, the machine, the date, the commit, the load."""
    today = date.today().isoformat()  # noqa: DTZ011 — the local calendar date of the run
    mode = " --quick" if quick else ""
    return "\n".join(
        [
            f"Command: `python -m bench{mode}` (scale {scale}, database {database}).  ",
            f"Machine: {machine()}.  ",
            f"Date: {today}, commit {git_commit()}.  ",
            "Load average (1/5/15 min) before the run "
            + "/".join(f"{x:.1f}" for x in load_before)
            + ", after "
            + "/".join(f"{x:.1f}" for x in load_after)
            + ".",
        ]
    )
