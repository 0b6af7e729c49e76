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

Split in two: the backend (backend.py) and the worker (worker.py). Import from here.
"""

from hongfeng.core.redis_tasks.backend import (
    DEFAULT_MAX_DELIVERIES,
    DEFAULT_PREFIX,
    DEFAULT_RESULT_TTL,
    DEFAULT_TASK_MODULES,
    DEFAULT_URL,
    NotATask,
    RedisBackend,
    TooManyDeliveries,
    redis_client,
    safe_url,
)
from hongfeng.core.redis_tasks.worker import Worker

__all__ = [
    "DEFAULT_MAX_DELIVERIES",
    "DEFAULT_PREFIX",
    "DEFAULT_RESULT_TTL",
    "DEFAULT_TASK_MODULES",
    "DEFAULT_URL",
    "NotATask",
    "RedisBackend",
    "TooManyDeliveries",
    "Worker",
    "redis_client",
    "safe_url",
]
