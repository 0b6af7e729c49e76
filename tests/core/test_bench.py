"""`python -m bench --quick` (issue 6) runs every scenario end to end against its own fresh
database on the suite's backend (SQLite or PostgreSQL, as DATABASE_URL selects): the seed, the
production server it starts and stops, every role's pages, the import and the ratings. Only
correctness is asserted — the exit status (1 on a wrong result), exactly the capacity accepted
and every scenario in the table — never a timing."""

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.support.paths import ROOT

SCENARIOS = [
    "a1 sign-up burst",
    "a2 GPS check-ins",
    "a3 broadcast fan-out",
    "b home page · volunteer",
    "b API /me/activities · volunteer",
    "b API /me/points · volunteer",
    "b home page · team captain",
    "b API /members · team captain",
    "b home page · county association admin",
    "b home page · city association admin",
    "b home page · province association admin",
    "b home page · police station officer",
    "b API /members · city police bureau officer",
    "c member search",
    "d roster import",
    "e1 levels",
    "e2 star rating",
    "e rating + levels",
    "server memory",
]


@pytest.fixture
def bench_database_url(tmp_path):
    """A database of its own, on the suite's backend; a PostgreSQL one is dropped afterwards."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        yield f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        return
    import psycopg

    name = f"hongfeng_bench_test_{uuid.uuid4().hex[:8]}"
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    server = f"postgresql://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_quick_bench_runs_every_scenario_correctly(bench_database_url):
    # The bench's own environment: no settings of this test process leak into it.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HONGFENG_")
        and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env["DATABASE_URL"] = bench_database_url
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-4000:]
    assert "→ 300 accepted (capacity 300)" in output
    assert "database: confirmed_count 300, 300 confirmed rows" in output
    table = [line for line in output.splitlines() if line.startswith("| ")]
    for scenario in SCENARIOS:
        assert any(line.startswith(f"| {scenario}") for line in table), scenario
    assert "WRONG RESULT" not in output + result.stderr
