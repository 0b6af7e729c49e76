"""The worker that serves the Redis backend's queues (`hongfeng redis_worker`): claims messages
atomically, keeps a heartbeat, re-queues the messages of dead workers, runs each task and
records its outcome."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass
from traceback import format_exception
from typing import Any

import redis
from django.db import connections
from django.tasks import DEFAULT_TASK_QUEUE_NAME, TaskContext, TaskResult, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json

from hongfeng.core.masking import mask_text
from hongfeng.core.redis_tasks.backend import (
    FINISHED,
    HEARTBEAT_EVERY,
    HEARTBEAT_TTL,
    RECOVER_EVERY,
    NotATask,
    RedisBackend,
    TooManyDeliveries,
    iso,
    logger,
    safe_url,
)


def _glob_escape(text: str) -> str:
    """Escape Redis glob characters so a prefix is matched literally by SCAN MATCH."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _tidy_connections() -> None:
    """Drop database connections that broke or outlived CONN_MAX_AGE, as Django does around a
    request. A connection inside a transaction is left alone: a worker run in burst mode from a
    test runs inside the test's transaction and must not end it."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


@dataclass
class Delivery:
    """One claimed message on its way to an outcome: recording the outcome and taking the
    message off the worker's processing list are one MULTI."""

    backend: RedisBackend
    processing: str  # the worker's processing list holding `raw`
    raw: str
    result_id: str
    deliveries: int  # how often the message has been handed to a worker, this time included
    errors: list  # the errors of earlier attempts

    @property
    def key(self) -> str:
        return self.backend.result_key(self.result_id)

    def finish(self, status: TaskResultStatus, **fields: str) -> None:
        pipe = self.backend.client.pipeline(transaction=True)
        pipe.hset(
            self.key,
            mapping={"status": status.value, "finished_at": iso(timezone.now()), **fields},
        )
        pipe.expire(self.key, self.backend.result_ttl)
        pipe.lrem(self.processing, 1, self.raw)
        pipe.execute()

    def fail(self, exc: BaseException) -> None:
        error = {
            "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
            # Tracebacks can quote arguments; results follow the log rule (security.md T4).
            "traceback": mask_text("".join(format_exception(exc))),
        }
        self.finish(TaskResultStatus.FAILED, errors=json.dumps([*self.errors, error]))


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
        delivery = self._accept(queue, raw)
        if delivery is None:
            return
        task_result = self._resolve(delivery)
        if task_result is not None:
            self._run(task_result, delivery)

    def _accept(self, queue: str, raw: str) -> Delivery | None:
        """Count the delivery and mark the task RUNNING; None when there is nothing to run (a
        malformed message is dropped, one already run to the end is taken off the list)."""
        backend = self.backend
        client = backend.client
        processing = backend.processing_key(self.id, queue)
        try:
            message = json.loads(raw)
            result_id = str(message["id"])
        except (ValueError, KeyError, TypeError):
            logger.error("Worker %s dropped a malformed message from queue %s", self.id, queue)
            client.lrem(processing, 1, raw)
            return None
        key = backend.result_key(result_id)
        if client.hget(key, "status") in FINISHED:
            # Already run to the end by a worker that was presumed dead but was not.
            client.lrem(processing, 1, raw)
            return None
        deliveries = client.hincrby(key, "deliveries", 1)
        data = client.hgetall(key)
        worker_ids = [*json.loads(data.get("worker_ids") or "[]"), self.id]
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
                "started_at": data.get("started_at") or iso(now),
                "last_attempted_at": iso(now),
                "worker_ids": json.dumps(worker_ids),
            },
        )
        errors = json.loads(data.get("errors") or "[]")
        return Delivery(backend, processing, raw, result_id, deliveries, errors)

    def _resolve(self, delivery: Delivery) -> TaskResult | None:
        """The task to run, or None when it is given up (delivered too often) or refused (not
        an allowed task) — recorded as failed either way."""
        backend = self.backend
        result_id = delivery.result_id
        if delivery.deliveries > backend.max_deliveries:
            exc = TooManyDeliveries(f"delivered {delivery.deliveries} times without finishing")
            delivery.fail(exc)
            logger.error(
                "Task id=%s given up after %d deliveries", result_id, delivery.deliveries - 1
            )
            return None
        try:
            return backend.result_from(result_id, backend.client.hgetall(delivery.key))
        except (NotATask, ValueError, TypeError) as exc:
            delivery.fail(exc)
            logger.error("Task id=%s refused: %s", result_id, exc)
            return None

    def _run(self, task_result: TaskResult, delivery: Delivery) -> None:
        """Call the task between Django's task signals and record what it returned or raised."""
        backend = self.backend
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
            delivery.fail(exc)
            refreshed = backend.get_result(delivery.result_id)
            # Sent inside the handler so Django's logger attaches the traceback.
            task_finished.send(sender=sender, task_result=refreshed)
        else:
            delivery.finish(TaskResultStatus.SUCCESSFUL, return_value=encoded)
            task_finished.send(sender=sender, task_result=backend.get_result(delivery.result_id))
        finally:
            _tidy_connections()
