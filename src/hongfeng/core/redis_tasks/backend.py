"""The `django.tasks` backend on Redis: enqueueing (after the commit), results, and the key
layout described in the package docstring."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import redis
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, transaction
from django.tasks import DEFAULT_TASK_QUEUE_NAME, Task, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

# One logger for the backend and its worker, named as before the split into modules.
logger = logging.getLogger("hongfeng.core.redis_tasks")

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


def iso(value: datetime | None) -> str:
    """A time as stored in a result hash (empty for none)."""
    return value.isoformat() if value else ""


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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
                    "enqueued_at": iso(task_result.enqueued_at),
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
                    "enqueued_at": iso(task_result.enqueued_at),
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
        return self.result_from(result_id, data)

    def result_from(self, result_id: str, data: dict[str, str]) -> TaskResult:
        """The TaskResult a result hash describes (NotATask when it names no allowed task)."""
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
