"""`hongfeng serve` as production runs it (issue 15, items 2.7 and 2.9): gunicorn's access log
escapes and masks what clients put in a path, and idle or half-sent connections stall the sync
workers on their own but no longer behind the nginx configuration of docs/deployment.md."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.core.test_log_safety import FORGED, ID_NUMBER, PATHS
from tests.support.paths import ROOT

WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HONGFENG_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env["DATABASE_URL"] = database
    return env


def _get(port: int, path: str = "/healthz", timeout: float = 2.0) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.status


def _wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    # a deadline, not a timing assertion: on two busy cores gunicorn took 30 s to boot
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if _get(port) == 200:
                return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"server did not come up:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`hongfeng serve` with two sync workers on a migrated SQLite file; (port, its log)."""
    folder = tmp_path_factory.mktemp("serve")
    database = f"sqlite:///{folder}/serve.db"
    migrate = subprocess.run(
        [sys.executable, "-m", "hongfeng", "migrate"],
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    port = _free_port()
    log = folder / "serve.log"
    command = ["serve", "--port", str(port), "--workers", str(WORKERS)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hongfeng", *command],
            env=_env(database),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(port, process, log)
        yield port, log
    finally:
        _stop(process)


def _raw_get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_access_log_escapes_and_masks_paths(served):
    port, log = served
    for path in PATHS:
        assert _raw_get(port, path).startswith(b"HTTP/1.1 404")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and log.read_bytes().count(b'"GET /apply/') < 3:
        time.sleep(0.2)
    written = log.read_bytes().decode()
    access = [line for line in written.splitlines() if '"GET /apply/' in line]
    assert len(access) == 3, written[-3000:]
    assert not any(line.startswith("1999-01-01") for line in written.splitlines())
    assert "\r" not in written and "\x00" not in written
    assert ID_NUMBER not in written and "1101**********002X" in access[1]
    assert "/apply/x\\x0d\\x0a" + FORGED in access[0]
    assert "/apply/nul\\x00byte/" in access[2]
    # the request id the application answered with, for matching the proxy's log line
    assert all(re.search(r" [0-9a-f]{32}$", line) for line in access)


def _idle_connections(port: int, count: int) -> list[socket.socket]:
    """Connections that send nothing, and connections that stop half-way through their
    headers (a phone losing signal, a slowloris)."""
    held = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        held.append(sock)
    time.sleep(0.5)  # let the server accept them
    return held


def _close(held: list[socket.socket]) -> None:
    for sock in held:
        sock.close()


def test_idle_connections_stall_sync_workers_on_their_own(served):
    """Why the proxy is required (docs/deployment.md): as many idle connections as workers
    and nobody else is served until gunicorn's 30 s timeout."""
    port, _log = served
    held = _idle_connections(port, WORKERS)
    try:
        with pytest.raises(OSError):  # urllib's timeout
            _get(port, timeout=3)
    finally:
        _close(held)
    _get(port, timeout=30)  # the workers are free again once the connections close


def _nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _documented(block: str) -> str:
    """A configuration block from docs/deployment.md, as an operator copies it."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", text, flags=re.S)
    return next(b for b in blocks if block in b)


@pytest.fixture(scope="module")
def nginx(served, tmp_path_factory):
    """nginx with the documented hongfeng-proxy.conf in front of `hongfeng serve`."""
    binary = _nginx_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is required under CI (apt-get install nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    app_port, _log = served
    folder = tmp_path_factory.mktemp("nginx")
    for name in ("body", "proxy", "logs"):
        (folder / name).mkdir()
        (folder / name).chmod(0o777)  # nginx's workers drop to an unprivileged user as root
    (folder / "hongfeng-proxy.conf").write_text(_documented("# hongfeng-proxy.conf"))
    site = _documented("upstream hongfeng_app")
    assert "include /etc/nginx/snippets/hongfeng-proxy.conf;" in site
    port = _free_port()
    (folder / "nginx.conf").write_text(
        f"""
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    access_log {folder}/logs/access.log;
    upstream hongfeng_app {{ server 127.0.0.1:{app_port}; }}
    server {{
        listen 127.0.0.1:{port};
        include {folder}/hongfeng-proxy.conf;
    }}
}}
"""
    )
    checked = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _get(port) == 200
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        _stop(process)


def test_idle_connections_no_longer_stall_the_server_behind_nginx(nginx):
    """Four times as many idle and half-sent connections as workers: every request still
    answers at once, because nginx holds them and passes on only complete requests."""
    held = _idle_connections(nginx, 4 * WORKERS)
    try:
        started = time.monotonic()
        for _ in range(10):
            assert _get(nginx, timeout=5) == 200
        assert time.monotonic() - started < 10
    finally:
        _close(held)


def test_the_proxy_refuses_a_body_above_our_limit(nginx):
    """client_max_body_size matches MAX_REQUEST_BYTES: larger bodies never reach a worker."""
    from django.conf import settings

    request = urllib.request.Request(
        f"http://127.0.0.1:{nginx}/api/v1/auth/token",
        data=b"x" * (settings.MAX_REQUEST_BYTES + 1),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 — a fixed http:// address
    assert refused.value.code == 413
    assert f"client_max_body_size {settings.MAX_REQUEST_BYTES // (1024 * 1024)}m;" in (
        _documented("# hongfeng-proxy.conf")
    )
