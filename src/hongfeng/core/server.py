"""Running gunicorn in-process, so that `hongfeng serve` and `hongfeng demo` need no separate
config file. Sync workers: measured 3–4× faster than uvicorn for this stack on 2 cores."""

import atexit
import gc
import logging
import os
import re
import subprocess
import sys

from django.conf import settings
from django.db import connections
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from hongfeng.core.logging import MaskPersonalDataFilter, safe_log_text


class _Application(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from hongfeng.wsgi import application

        return application


# Atoms of gunicorn's access log that carry what the client sent: the path, the request line,
# the query string, the user name, the referrer, the user agent, the method, any request header.
_CLIENT_ATOMS = re.compile(r"^([UrqufamH]|\{[^}]+\}i)$")


# Paths, never query strings (they may carry a mobile number), and the request id (the proxy's,
# or ours) that the application log and the audit trail carry too.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss %({x-request-id}o)s'


class SafeLogger(Logger):
    """gunicorn's logger, made safe (issue 15, item 2.7). gunicorn writes the decoded request
    path as it came — a line break, a NUL or an ID number in it went to the log as they were.
    The access log's client-supplied atoms get the application log's treatment (control
    characters made visible, ID and mobile numbers masked) — only those, so that the request
    id at the end of the line, hex that may hold a run of digits, stays whole for matching it
    to the application log. The error log goes through the application log's filter."""

    def setup(self, cfg):
        super().setup(cfg)
        named = re.findall(r"%\(([^)]+)\)s", cfg.access_log_format)
        # gunicorn keys header atoms in lower case and looks them up case-insensitively
        named = {name.lower() if name.startswith("{") else name for name in named}
        self._client_atoms = sorted(name for name in named if _CLIENT_ATOMS.match(name))
        if not any(isinstance(f, MaskPersonalDataFilter) for f in self.error_log.filters):
            self.error_log.addFilter(MaskPersonalDataFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in self._client_atoms:
            if isinstance(atoms.get(name), str):
                atoms[name] = safe_log_text(atoms[name])
        return atoms


def _leave_without_finalizing(arbiter, worker) -> None:
    """gunicorn's `worker_exit` hook: a worker that is stopping cleanly leaves at once.

    Python's own shutdown runs the garbage collector over every object the worker holds
    (Django, pypinyin's dictionaries, …); on two busy cores that took more than the 10 s
    graceful timeout, so every stop or restart waited 10 s and ended with the master's
    "Worker was sent SIGKILL! Perhaps out of memory?" (measured by `python -m bench`). Nothing
    is lost: the request loop has ended, the database connections are closed and the logs
    flushed here. A worker leaving with an error status takes the normal path, so the master
    still sees boot and import failures."""
    leaving = sys.exc_info()[1]  # the SystemExit on its way out of the worker
    if not isinstance(leaving, SystemExit) or leaving.code not in (0, None):
        return
    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _freeze_what_is_loaded(worker) -> None:
    """gunicorn's `post_worker_init` hook: load the URL configuration (otherwise loaded by the
    first request), collect once, and move every object the worker now holds into the garbage
    collector's permanent generation.

    Why: a loaded worker holds ~370,000 objects (Django, the routes, pypinyin's dictionaries)
    that live as long as it does, and every full collection walked all of them — 177 ms, during
    which the worker's request and the ones queued behind it waited. A request that builds many
    objects (a member list, a search) sets one off every few hundred requests: measured by
    `python -m bench` (scenario c) as a search p95 of 200–220 ms against a p50 of 80. Frozen,
    a full collection walks only what was made since. Nothing is lost: a frozen object that
    becomes garbage is freed by reference counting as before; only cycles among those objects,
    which the loaded application does not make, would stay."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — the lazy URL configuration, loaded now
    gc.collect()
    gc.freeze()
    # With the loaded objects frozen, the young generations are all that is left to walk; at
    # the default 700 allocations a check-in set off a young collection every few requests and
    # a full one every hundred (callgrind: +1.3 % instructions per check-in); at 10,000 the
    # check-in costs what it did before the freeze.
    gc.set_threshold(10_000, 10, 10)


_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


def default_workers(database: dict | None = None, cores: int | None = None) -> int:
    """How many sync workers `hongfeng serve` starts: cores + 1 when the database is on this
    machine (SQLite, or PostgreSQL over its socket or the loopback), else 2 × cores + 1.

    Why: a sync worker keeps its core while its request runs, and with a local database it
    waits on nothing but that database, which wants the same cores. Measured (`python -m
    bench`, scenario a, 2 cores, PostgreSQL on the machine, 8,000 requests): 3 workers spent
    about 15 % less server CPU per check-in than 5 and served sign-ups and check-ins 10–15 %
    faster — the extra processes only added context switches and cache misses. With the
    database on another machine every request also waits on the network, and the usual
    2 × cores + 1 keeps the cores busy meanwhile. `--workers` / HONGFENG_WORKERS decide
    otherwise."""
    database = database if database is not None else settings.DATABASES["default"]
    cores = cores or os.cpu_count() or 1
    host = str(database.get("HOST") or "")
    local = "sqlite" in database["ENGINE"] or host in _LOCAL_HOSTS or host.startswith("/")
    return cores + 1 if local else 2 * cores + 1


def run_gunicorn(*, host: str, port: int, workers: int, timeout: int = 30) -> None:
    connections.close_all()  # never share a database connection across the fork
    _Application(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": timeout,
            "graceful_timeout": 10,
            "accesslog": "-",
            "logger_class": SafeLogger,
            "access_log_format": ACCESS_LOG_FORMAT,
            "post_worker_init": _freeze_what_is_loaded,
            "worker_exit": _leave_without_finalizing,
            # gunicorn's control socket (~/.gunicorn/gunicorn.ctl, one path for every gunicorn
            # of the same user, so two servers on a machine take it from each other) is not
            # used by hongfeng; without it the master also stops ~3 s sooner.
            "control_socket_disable": True,
        }
    ).run()


def _child(args: list[str]) -> subprocess.Popen:
    # fixed arguments from this module only, never user input
    process = subprocess.Popen([sys.executable, "-m", "hongfeng", *args])  # noqa: S603
    owner = os.getpid()

    def stop() -> None:
        if os.getpid() == owner:  # not from gunicorn's forked workers as they exit
            process.terminate()

    atexit.register(stop)
    return process


def start_task_worker() -> list[subprocess.Popen]:
    """For `hongfeng demo`: one background-task worker (imports, broadcasts, notices) and the
    clock sweep (activities start/finish, automatic check-out) beside the web server, stopped
    with it. In production run the worker (`hongfeng db_worker`, or `hongfeng redis_worker`
    with HONGFENG_TASKS=redis) and `hongfeng sweep --loop 60` as services."""
    children = [_child(["sweep", "--loop", "60"])]
    if settings.TASKS_MODE == "database":
        children.append(_child(["db_worker", "--no-startup-delay", "--no-reload"]))
    elif settings.TASKS_MODE == "redis":
        children.append(_child(["redis_worker"]))
    return children
