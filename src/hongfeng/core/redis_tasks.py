"""A `django.tasks` backend on Redis (`HONGFENG_TASKS=redis`) and the worker that serves it
(`hongfeng redis_worker`).

Why our own and not `django-tasks-rq`: that package is written against the `django-tasks`
backport, not Django's built-in `django.tasks`. Under Django 6 it turns `@task` functions into
the backport's Task class, returns the backport's TaskResult, raises the backport's
TaskResultDoesNotExist (which `except django.tasks.exceptions.TaskResultDoesNotExist` does not
catch) and sends the backport's signals; it also brings RQ, rq-scheduler and freezegun into
production, needs a non-default `--job-class` on the worker, and parks a killed worker's job in
RQ's failed registry instead of running it again. This module needs only the `redis` client.

Layout in Redis (every key under one prefix, `hongfeng:tasks` by default):

- `<prefix>:queue:<queue>` — a list of JSON messages; `enqueue` pushes on the left and workers
  take from the right, so a queue runs first in, first out.
- `<prefix>:processing:<worker>:<queue>` — what one worker has taken and not finished. A worker
  moves a message here atomically (BLMOVE) and removes it in the same MULTI that records the
  outcome, so a message is always in exactly one list.
- `<prefix>:worker:<worker>` — the worker's heartbeat, a key with a short TTL refreshed by a
  thread. A processing list whose heartbeat has expired belongs to a dead worker: any worker
  moves its messages back onto the queue (at-least-once delivery — hongfeng's tasks claim their
  rows with conditional updates, so a second run does nothing twice).
- `<prefix>:result:<id>` — a hash with the task's status, times, return value and errors,
  read by `get_result`; kept `RESULT_TTL` seconds after the task finishes.

Enqueueing inside a transaction waits for the commit (`ENQUEUE_ON_COMMIT`, on by default), as a
row in django-tasks-db's queue table would: a worker must never see a task before the rows it
works on, and a rolled-back change must queue nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from traceback import format_exception
from typing import Any

import redis
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.tasks import DEFAULT_TASK_QUEUE_NAME, Task, TaskContext, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from hongfeng.core.masking import mask_text

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "hongfeng:tasks"
# Finished results are kept a week: long enough to look at a failure, short enough that Redis
# does not grow with every notice ever sent.
DEFAULT_RESULT_TTL = 7 * 24 * 3600
# A message delivered this often without finishing (its worker killed each time, e.g. by the
# OOM killer) is marked failed instead of taking every worker down in turn.
DEFAULT_MAX_DELIVERIES = 5
# Only functions under these module prefixes may be run from a message: whoever can write to
# Redis must not be able to make a worker import and call arbitrary code.
DEFAULT_TASK_MODULES = ("hongfeng.",)
HEARTBEAT_TTL = 30
HEARTBEAT_EVERY = 10
RECOVER_EVERY = 30

FINISHED = {TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED}


class TooManyDeliveries(Exception):
    """Recorded as a task's error when its message came back more than MAX_DELIVERIES times."""


class NotATask(Exception):
    """Recorded as a task's error when its message names something that is not an allowed
    `django.tasks` Task."""


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _glob_escape(text: str) -> str:
    """Escape Redis glob characters so a prefix is matched literally by SCAN MATCH."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process: gunicorn workers and task workers
    reuse their connections instead of opening one per backend instance or thread."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            # The socket timeout must stay above the worker's BLMOVE wait (1 s).
            client = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=5,
                socket_timeout=10,
                health_check_interval=30,
            )
            _clients[url] = client
        return client


def safe_url(url: str) -> str:
    """The URL without its password, for log lines and command output."""
    return re.sub(r"//[^@/]*@", "//***@", url)


class RedisBackend(BaseTaskBackend):
    """`django.tasks` backend that queues JSON messages in Redis lists; see the module docstring.

    OPTIONS: URL (default redis://127.0.0.1:6379/0), PREFIX, RESULT_TTL (seconds),
    MAX_DELIVERIES, TASK_MODULES (allowed module prefixes), ENQUEUE_ON_COMMIT (default True).
    """

    supports_async_task = True
    supports_get_result = True
    # Not offered: deferred tasks (run_after) and priorities. A priority is carried in the
    # message but every queue runs first in, first out; django.tasks refuses tasks asking for
    # either, so nothing is silently ignored.
    supports_defer = False
    supports_priority = False

    def __init__(self, alias: str, params: dict) -> None:
        """Read OPTIONS; the Redis connection is opened lazily on first use."""
        super().__init__(alias, params)
        self.url = self.options.get("URL", DEFAULT_URL)
        self.prefix = self.options.get("PREFIX", DEFAULT_PREFIX)
        self.result_ttl = int(self.options.get("RESULT_TTL", DEFAULT_RESULT_TTL))
        self.max_deliveries = int(self.options.get("MAX_DELIVERIES", DEFAULT_MAX_DELIVERIES))
        self.task_modules = tuple(self.options.get("TASK_MODULES", DEFAULT_TASK_MODULES))
        self.enqueue_on_commit = bool(self.options.get("ENQUEUE_ON_COMMIT", True))

    @property
    def client(self) -> redis.Redis:
        """The shared client for this backend's URL."""
        return redis_client(self.url)

    # Keys -----------------------------------------------------------------------------------

    def queue_key(self, queue: str) -> str:
        """The list holding the queue's waiting messages."""
        return f"{self.prefix}:queue:{queue}"

    def processing_key(self, worker_id: str, queue: str) -> str:
        """The list of messages one worker has taken from one queue and not yet finished."""
        return f"{self.prefix}:processing:{worker_id}:{queue}"

    def heartbeat_key(self, worker_id: str) -> str:
        """The key whose presence says the worker is alive."""
        return f"{self.prefix}:worker:{worker_id}"

    def result_key(self, result_id: str) -> str:
        """The hash holding one task's result."""
        return f"{self.prefix}:result:{result_id}"

    # Enqueue and results ----------------------------------------------------------------------

    def validate_task(self, task: Task) -> None:
        """Django's checks, plus: the task lives in a module a worker is allowed to run."""
        super().validate_task(task)
        if not task.module_path.startswith(self.task_modules):
            raise InvalidTask(
                f"Task {task.module_path!r} is outside the allowed modules {self.task_modules}."
            )

    def enqueue(self, task: Task, args: Iterable[Any], kwargs: dict[str, Any]) -> TaskResult:
        """Queue the task: one MULTI writes its result hash (READY) and pushes its message.
        Inside a transaction on the default database the push waits for the commit."""
        self.validate_task(task)
        task_result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            # TaskResult normalises args/kwargs to JSON (and refuses what JSON cannot carry).
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

        def push() -> None:
            object.__setattr__(task_result, "enqueued_at", timezone.now())
            message = json.dumps(
                {
                    "id": task_result.id,
                    "task": task.module_path,
                    "args": task_result.args,
                    "kwargs": task_result.kwargs,
                    "queue": task.queue_name,
                    "priority": task.priority,
                    "backend": self.alias,
                    "enqueued_at": _iso(task_result.enqueued_at),
                },
                ensure_ascii=False,
            )
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(
                self.result_key(task_result.id),
                mapping={
                    "task": task.module_path,
                    "status": TaskResultStatus.READY.value,
                    "queue": task.queue_name,
                    "priority": task.priority,
                    "args": json.dumps(task_result.args, ensure_ascii=False),
                    "kwargs": json.dumps(task_result.kwargs, ensure_ascii=False),
                    "enqueued_at": _iso(task_result.enqueued_at),
                    "worker_ids": "[]",
                    "errors": "[]",
                },
            )
            pipe.lpush(self.queue_key(task.queue_name), message)
            pipe.execute()
            task_enqueued.send(type(self), task_result=task_result)

        if self.enqueue_on_commit and transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block:
            transaction.on_commit(push, using=DEFAULT_DB_ALIAS)
        else:
            push()
        return task_result

    def resolve_task(self, path: str) -> Task:
        """The Task a message names — only a `django.tasks` Task under TASK_MODULES."""
        if not path.startswith(self.task_modules):
            raise NotATask(f"{path!r} is outside the allowed task modules")
        try:
            found = import_string(path)
        except ImportError as exc:
            raise NotATask(f"{path!r} cannot be imported") from exc
        if not isinstance(found, Task):
            raise NotATask(f"{path!r} is not a django.tasks Task")
        return found

    def get_result(self, result_id: str) -> TaskResult:
        """The task's result from its hash; TaskResultDoesNotExist when unknown or expired
        (and, with ENQUEUE_ON_COMMIT, before the enqueueing transaction commits)."""
        data = self.client.hgetall(self.result_key(result_id))
        if not data or "task" not in data:
            raise TaskResultDoesNotExist(result_id)
        return self._result_from(result_id, data)

    def _result_from(self, result_id: str, data: dict[str, str]) -> TaskResult:
        task = self.resolve_task(data["task"]).using(
            queue_name=data.get("queue") or DEFAULT_TASK_QUEUE_NAME,
            priority=int(data.get("priority") or 0),
            backend=self.alias,
        )
        result = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus(data.get("status") or TaskResultStatus.READY),
            enqueued_at=_when(data.get("enqueued_at")),
            started_at=_when(data.get("started_at")),
            last_attempted_at=_when(data.get("last_attempted_at")),
            finished_at=_when(data.get("finished_at")),
            args=json.loads(data.get("args") or "[]"),
            kwargs=json.loads(data.get("kwargs") or "{}"),
            backend=self.alias,
            errors=[TaskError(**error) for error in json.loads(data.get("errors") or "[]")],
            worker_ids=json.loads(data.get("worker_ids") or "[]"),
        )
        if "return_value" in data:
            object.__setattr__(result, "_return_value", json.loads(data["return_value"]))
        return result

    def check(self, **kwargs: Any) -> Iterable[checks.CheckMessage]:
        """Configuration errors only: a system check must not need Redis to be up."""
        yield from super().check(**kwargs)
        if not self.url.startswith(("redis://", "rediss://", "unix://")):
            yield checks.Error(
                "HONGFENG_REDIS_URL must start with redis://, rediss:// or unix://",
                id="hongfeng.E101",
            )


def _tidy_connections() -> None:
    """Drop database connections that broke or outlived CONN_MAX_AGE, as Django does around a
    request. A connection inside a transaction is left alone: a worker run in burst mode from a
    test runs inside the test's transaction and must not end it."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


class Worker:
    """Runs tasks from a RedisBackend's queues until stopped (or, with burst, until they are
    empty). `hongfeng redis_worker` is a thin wrapper around it."""

    def __init__(
        self,
        backend: RedisBackend,
        *,
        queues: list[str] | None = None,
        burst: bool = False,
        max_tasks: int | None = None,
        block_seconds: int = 1,
    ) -> None:
        """`queues` defaults to every queue the backend accepts."""
        self.backend = backend
        self.queues = list(queues or sorted(backend.queues) or [DEFAULT_TASK_QUEUE_NAME])
        self.burst = burst
        self.max_tasks = max_tasks
        self.block_seconds = block_seconds
        host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:40]
        self.id = f"{host}.{os.getpid()}.{get_random_string(6)}"
        self.stopping = False
        self._wake = threading.Event()
        self._beat_stop = threading.Event()
        self._beat_thread: threading.Thread | None = None

    # Lifecycle --------------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Finish the task in hand, then leave (SIGTERM/SIGINT). A second signal stops at once;
        the unfinished message goes back onto its queue on the way out."""
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        self._wake.set()
        logger.info("Worker %s stopping after the current task", self.id)

    def install_signal_handlers(self) -> None:
        """SIGTERM (systemd, container stop) and SIGINT (Ctrl+C) stop gracefully."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> int:
        """The worker loop; returns how many tasks it ran."""
        client = self.backend.client
        beat_key = self.backend.heartbeat_key(self.id)
        # The heartbeat exists before the first message is taken, so no other worker can
        # mistake this one's processing list for a dead worker's.
        client.set(beat_key, "1", ex=HEARTBEAT_TTL)
        self._beat_thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._beat_thread.start()
        logger.info(
            "Worker %s on %s, queues %s%s",
            self.id,
            safe_url(self.backend.url),
            ",".join(self.queues),
            " (burst)" if self.burst else "",
        )
        done = 0
        last_recovery = 0.0
        try:
            while not self.stopping:
                if self.max_tasks is not None and done >= self.max_tasks:
                    break
                try:
                    if time.monotonic() - last_recovery >= RECOVER_EVERY:
                        self.recover()
                        last_recovery = time.monotonic()
                    claimed = self._claim()
                except (redis.ConnectionError, redis.TimeoutError):
                    if self.burst:
                        raise
                    logger.warning("Redis unreachable at %s; retrying", safe_url(self.backend.url))
                    self._wake.wait(5)
                    continue
                if claimed is None:
                    if self.burst:
                        break
                    continue
                queue, raw = claimed
                self.process(queue, raw)
                done += 1
        finally:
            self._requeue_own()
            self._beat_stop.set()
            if self._beat_thread is not None:
                self._beat_thread.join(timeout=5)
            # Without Redis the key simply expires; do not hide the error that got us here.
            with contextlib.suppress(redis.RedisError):
                client.delete(beat_key)
            logger.info("Worker %s stopped after %d task(s)", self.id, done)
        return done

    def _beat(self) -> None:
        """Refresh the heartbeat while the worker lives, including during long tasks."""
        key = self.backend.heartbeat_key(self.id)
        while not self._beat_stop.wait(HEARTBEAT_EVERY):
            try:
                self.backend.client.set(key, "1", ex=HEARTBEAT_TTL)
            except redis.RedisError:
                logger.warning("Worker %s could not refresh its heartbeat", self.id)

    # Claiming and recovery --------------------------------------------------------------------

    def _claim(self) -> tuple[str, str] | None:
        """Move the next message of the first non-empty queue to this worker's processing list.
        Blocks up to block_seconds when serving one queue (and not in burst mode)."""
        client = self.backend.client
        for queue in self.queues:
            raw = client.lmove(
                self.backend.queue_key(queue),
                self.backend.processing_key(self.id, queue),
                "RIGHT",
                "LEFT",
            )
            if raw is not None:
                return queue, raw
        if self.burst:
            return None
        if len(self.queues) == 1:
            queue = self.queues[0]
            raw = client.blmove(
                self.backend.queue_key(queue),
                self.backend.processing_key(self.id, queue),
                self.block_seconds,
                "RIGHT",
                "LEFT",
            )
            return (queue, raw) if raw is not None else None
        # Several queues: BLMOVE waits on one list only, so poll them.
        self._wake.wait(self.block_seconds)
        return None

    def recover(self) -> int:
        """Put back the messages of workers whose heartbeat has expired; returns how many.
        Each LMOVE is atomic, so two workers recovering at once move every message once."""
        client = self.backend.client
        marker = f"{self.backend.prefix}:processing:"
        moved = 0
        for key in client.scan_iter(match=_glob_escape(marker) + "*", count=100):
            worker_id, _, queue = key[len(marker) :].partition(":")
            if worker_id == self.id or client.exists(self.backend.heartbeat_key(worker_id)):
                continue
            # The consuming end (right): a recovered task runs next, it has waited long enough.
            while client.lmove(key, self.backend.queue_key(queue), "LEFT", "RIGHT") is not None:
                moved += 1
        if moved:
            logger.warning("Worker %s re-queued %d task(s) of dead workers", self.id, moved)
        return moved

    def _requeue_own(self) -> None:
        """On the way out, put back whatever this worker took and did not finish (a forced
        stop in the middle of a task) so the next worker runs it without waiting for expiry."""
        try:
            client = self.backend.client
            for queue in self.queues:
                key = self.backend.processing_key(self.id, queue)
                while client.lmove(key, self.backend.queue_key(queue), "LEFT", "RIGHT") is not None:
                    pass
        except redis.RedisError:
            # Redis is gone; the heartbeat will expire and another worker will recover them.
            logger.warning("Worker %s could not re-queue its unfinished task", self.id)

    # Running one task -------------------------------------------------------------------------

    def process(self, queue: str, raw: str) -> None:
        """Run one claimed message and record its outcome; the record and the removal from the
        processing list are one MULTI, so a crash in between re-runs the task rather than
        losing it."""
        backend = self.backend
        client = backend.client
        processing = backend.processing_key(self.id, queue)
        try:
            message = json.loads(raw)
            result_id = str(message["id"])
        except (ValueError, KeyError, TypeError):
            logger.error("Worker %s dropped a malformed message from queue %s", self.id, queue)
            client.lrem(processing, 1, raw)
            return
        key = backend.result_key(result_id)
        if client.hget(key, "status") in FINISHED:
            # Already run to the end by a worker that was presumed dead but was not.
            client.lrem(processing, 1, raw)
            return
        deliveries = client.hincrby(key, "deliveries", 1)
        data = client.hgetall(key)
        worker_ids = [*json.loads(data.get("worker_ids") or "[]"), self.id]
        errors = json.loads(data.get("errors") or "[]")
        now = timezone.now()
        client.hset(
            key,
            mapping={
                # Restated from the message: the hash may have expired or been evicted.
                "task": message.get("task", ""),
                "queue": queue,
                "priority": message.get("priority", 0),
                "args": json.dumps(message.get("args", []), ensure_ascii=False),
                "kwargs": json.dumps(message.get("kwargs", {}), ensure_ascii=False),
                "enqueued_at": data.get("enqueued_at") or message.get("enqueued_at", ""),
                "status": TaskResultStatus.RUNNING.value,
                "started_at": data.get("started_at") or _iso(now),
                "last_attempted_at": _iso(now),
                "worker_ids": json.dumps(worker_ids),
            },
        )

        def finish(status: TaskResultStatus, **fields: str) -> None:
            pipe = client.pipeline(transaction=True)
            pipe.hset(
                key,
                mapping={"status": status.value, "finished_at": _iso(timezone.now()), **fields},
            )
            pipe.expire(key, backend.result_ttl)
            pipe.lrem(processing, 1, raw)
            pipe.execute()

        def fail(exc: BaseException) -> None:
            error = {
                "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
                # Tracebacks can quote arguments; results follow the log rule (security.md T4).
                "traceback": mask_text("".join(format_exception(exc))),
            }
            finish(TaskResultStatus.FAILED, errors=json.dumps([*errors, error]))

        if deliveries > backend.max_deliveries:
            exc = TooManyDeliveries(f"delivered {deliveries} times without finishing")
            fail(exc)
            logger.error("Task id=%s given up after %d deliveries", result_id, deliveries - 1)
            return
        try:
            task_result = backend._result_from(result_id, client.hgetall(key))
        except (NotATask, ValueError, TypeError) as exc:
            fail(exc)
            logger.error("Task id=%s refused: %s", result_id, exc)
            return

        task = task_result.task
        sender = type(backend)
        task_started.send(sender=sender, task_result=task_result)
        _tidy_connections()
        try:
            if task.takes_context:
                value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            encoded = json.dumps(normalize_json(value), ensure_ascii=False)
        except (KeyboardInterrupt, SystemExit):
            # A forced stop is not the task's failure: run() puts the message back.
            raise
        except Exception as exc:
            fail(exc)
            refreshed = backend.get_result(result_id)
            # Sent inside the handler so Django's logger attaches the traceback.
            task_finished.send(sender=sender, task_result=refreshed)
        else:
            finish(TaskResultStatus.SUCCESSFUL, return_value=encoded)
            task_finished.send(sender=sender, task_result=backend.get_result(result_id))
        finally:
            _tidy_connections()
