"""The set-up scripts (README's two commands, issue 15 §6): what counts as installed, waiting for
another apt, and a CI run that cannot silently test less. The scripts run for real, with
`dpkg-query`, `apt-get` and `id` replaced by small fakes on PATH."""

import os
import subprocess
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.conftest import skip_unless_ci
from tests.support.paths import ROOT

LIB = ROOT / "scripts" / "lib.sh"


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)


def _run(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    _fake(bin_dir, "id", "echo 0")  # as root: no sudo
    _fake(bin_dir, "sleep", "true")  # the lock wait, without the wait
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        ["/bin/bash", "-c", f"source {LIB}; {script}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_an_unpacked_package_is_not_installed(tmp_path):
    (tmp_path / "bin").mkdir()
    _fake(
        tmp_path / "bin",
        "dpkg-query",
        'case "$3" in chromium) echo -n "install ok unpacked";;'
        ' *) echo -n "install ok installed";; esac',
    )
    answer = _run(tmp_path, "installed fonts-noto-cjk && echo A; installed chromium || echo B")
    assert answer.stdout.split() == ["A", "B"]


def test_apt_waits_for_the_lock_and_says_so(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "installed"
    _fake(
        bin_dir,
        "dpkg-query",
        f'[ -f {state} ] && echo -n "install ok installed" || echo -n "not-installed"',
    )
    calls = tmp_path / "calls"
    _fake(
        bin_dir,
        "apt-get",
        f"""echo "$@" >> {calls}
if [[ "$*" == *update* ]] && [ ! -f {tmp_path}/unlocked ]; then
  touch {tmp_path}/unlocked
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 42" >&2; exit 100
fi
[[ "$*" == *install* ]] && touch {state}
exit 0""",
    )
    answer = _run(tmp_path, "apt_install chromium")
    assert answer.returncode == 0, answer.stderr
    assert "等待" in answer.stdout
    lines = calls.read_text().splitlines()
    assert sum("update" in line for line in lines) == 2  # refused once, then done
    assert any("DPkg::Lock::Timeout" in line and "install" in line for line in lines)


def test_apt_failure_other_than_the_lock_stops_at_once(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake(bin_dir, "dpkg-query", 'echo -n "not-installed"')
    _fake(bin_dir, "apt-get", 'echo "E: 无法解析域名" >&2; exit 100')
    answer = _run(tmp_path, "apt_install chromium")
    assert answer.returncode != 0 and "无法解析" in answer.stderr


@pytest.mark.parametrize(("ci", "outcome"), [("true", Failed), ("", Skipped)])
def test_a_missing_dependency_fails_under_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        skip_unless_ci("Chromium is missing")
