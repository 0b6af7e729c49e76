"""Running beyond one machine (issue 6, docs/scaling.md): the Redis task backend and its worker,
reads routed to a replica, and the PgBouncer settings.

The Redis tests use the local Redis (HONGFENG_TEST_REDIS_URL, default database 15) under a key
prefix of their own, removed afterwards; they are skipped when Redis cannot be reached.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import transaction
from django.tasks import TaskResultStatus, task, task_backends
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist

from hongfeng.core.db_routing import REPLICA_ALIAS, ReplicaRouter, replica_requested, using_replica
from hongfeng.core.redis_tasks import NotATask, RedisBackend, TooManyDeliveries, Worker, safe_url
from tests.conftest import skip_unless_ci
from tests.support.paths import ROOT

PROBE = Path(__file__).with_name("scaling_replica_probe.py")
REDIS_TEST_URL = os.environ.get("HONGFENG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ID_NUMBER = "11010519491231002X"


# Tasks for the tests (module level, as django.tasks requires).


@task
def add(a: int, b: int) -> int:
    """A task with a return value."""
    return a + b


@task
def explode(id_number: str) -> None:
    """A failing task whose error quotes personal data."""
    raise ValueError(f"无法处理身份证号 {id_number}")


@task(takes_context=True)
def killed_first_time(context) -> int:
    """Stands for a worker killed in the middle of the task on its first delivery: the forced
    stop escapes the task, the message is not acknowledged."""
    if context.attempt == 1:
        raise KeyboardInterrupt("worker killed")
    return context.attempt


@task
def nap(seconds: float) -> str:
    """A task long enough to receive SIGTERM in the middle of."""
    time.sleep(seconds)
    return "rested"


# Redis fixtures.


def _options(prefix: str, **extra) -> dict:
    return {
        "URL": REDIS_TEST_URL,
        "PREFIX": prefix,
        "TASK_MODULES": ["hongfeng.", "tests."],
        **extra,
    }


@pytest.fixture
def redis_client():
    """The test Redis, or a skip saying why it is missing."""
    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_unless_ci(f"Redis unreachable at {REDIS_TEST_URL} ({exc}); start redis-server to run")
    return client


@pytest.fixture
def prefix(redis_client):
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    name = f"hongfeng-test:{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(match=f"{name}:*"))
    if keys:
        redis_client.delete(*keys)


def _use_redis(settings, prefix: str, **options) -> RedisBackend:
    settings.TASKS = {
        "default": {
            "BACKEND": "hongfeng.core.redis_tasks.RedisBackend",
            "OPTIONS": _options(prefix, **options),
        }
    }
    return task_backends["default"]


@pytest.fixture
def backend(settings, prefix) -> RedisBackend:
    """The default task backend switched to Redis for this test. Each test runs inside a
    transaction that never commits, so enqueueing does not wait for a commit here; the test of
    that behaviour switches it back on."""
    return _use_redis(settings, prefix, ENQUEUE_ON_COMMIT=False)


def _keys(client, prefix: str, kind: str) -> list[str]:
    return sorted(client.scan_iter(match=f"{prefix}:{kind}:*"))


# The Redis backend and worker.


# The worker tidies database connections around each task, as Django does around a request.
@pytest.mark.django_db
class TestRedisBackend:
    def test_enqueue_run_and_read_the_result(self, backend, redis_client, prefix):
        result = add.enqueue(2, 3)
        assert result.status == TaskResultStatus.READY
        assert redis_client.llen(backend.queue_key("default")) == 1
        message = json.loads(redis_client.lindex(backend.queue_key("default"), 0))
        assert message["task"] == "tests.core.test_scaling.add"
        assert message["args"] == [2, 3]
        assert message["queue"] == "default"
        assert add.get_result(result.id).status == TaskResultStatus.READY

        assert Worker(backend, burst=True).run() == 1

        done = add.get_result(result.id)
        assert done.status == TaskResultStatus.SUCCESSFUL
        assert done.return_value == 5
        assert done.attempts == 1
        assert done.enqueued_at <= done.started_at <= done.finished_at
        result.refresh()
        assert result.return_value == 5
        # Nothing left behind but the result, which expires.
        assert redis_client.llen(backend.queue_key("default")) == 0
        assert _keys(redis_client, prefix, "processing") == []
        assert _keys(redis_client, prefix, "worker") == []
        assert 0 < redis_client.ttl(backend.result_key(result.id)) <= backend.result_ttl

    def test_failure_is_recorded_with_personal_data_masked(self, backend):
        result = explode.enqueue(ID_NUMBER)
        Worker(backend, burst=True).run()
        failed = explode.get_result(result.id)
        assert failed.status == TaskResultStatus.FAILED
        assert failed.errors[0].exception_class is ValueError
        assert ID_NUMBER not in failed.errors[0].traceback
        assert "无法处理身份证号" in failed.errors[0].traceback

    def test_unknown_result_raises_djangos_exception(self, backend):
        with pytest.raises(TaskResultDoesNotExist):
            add.get_result("no-such-id")

    def test_real_task_notice_delivery(self, backend, django_capture_on_commit_callbacks):
        """notify() queues deliver_notice after the commit; the worker sends the notice."""
        from hongfeng.notices.models import Channel, Notice, NoticeStatus
        from hongfeng.notices.services import notify
        from hongfeng.notices.tasks import deliver_notice

        with django_capture_on_commit_callbacks(execute=True):
            notice, _ = notify(
                mobile="13812345678",
                kind="test",
                title="测试",
                body="测试通知",
                channel=Channel.SMS,
            )
        assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.PENDING

        assert Worker(backend, burst=True).run() == 1

        notice.refresh_from_db()
        assert notice.status == NoticeStatus.SENT
        assert notice.attempts == 1
        [key] = backend.client.scan_iter(match=f"{backend.prefix}:result:*")
        result = deliver_notice.get_result(key.rsplit(":", 1)[1])
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.args == [notice.pk]

    def test_enqueue_inside_a_transaction_waits_for_the_commit(
        self, settings, prefix, redis_client, django_capture_on_commit_callbacks
    ):
        backend = _use_redis(settings, prefix)  # ENQUEUE_ON_COMMIT defaults to on
        queue = backend.queue_key("default")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = add.enqueue(1, 1)
        assert redis_client.llen(queue) == 0
        with pytest.raises(TaskResultDoesNotExist):
            add.get_result(result.id)
        for callback in callbacks:
            callback()
        assert redis_client.llen(queue) == 1
        assert add.get_result(result.id).status == TaskResultStatus.READY

        # A rolled-back transaction queues nothing.
        with (
            django_capture_on_commit_callbacks(execute=True),
            contextlib.suppress(RuntimeError),
            transaction.atomic(),
        ):
            add.enqueue(2, 2)
            raise RuntimeError
        assert redis_client.llen(queue) == 1

    def test_a_dead_workers_task_runs_again(self, backend, redis_client, prefix):
        result = killed_first_time.enqueue()
        dead = Worker(backend)  # never beats: as if killed and its heartbeat expired
        queue, raw = dead._claim()
        with pytest.raises(KeyboardInterrupt):
            dead.process(queue, raw)
        assert killed_first_time.get_result(result.id).status == TaskResultStatus.RUNNING
        assert redis_client.llen(backend.queue_key("default")) == 0

        survivor = Worker(backend, burst=True)
        assert survivor.run() == 1

        done = killed_first_time.get_result(result.id)
        assert done.status == TaskResultStatus.SUCCESSFUL
        assert done.return_value == 2
        assert done.worker_ids == [dead.id, survivor.id]
        assert _keys(redis_client, prefix, "processing") == []

    def test_a_live_workers_task_is_left_alone(self, backend, redis_client):
        add.enqueue(1, 2)
        alive = Worker(backend)
        redis_client.set(backend.heartbeat_key(alive.id), "1", ex=30)
        assert alive._claim() is not None
        assert Worker(backend, burst=True).run() == 0
        assert redis_client.llen(backend.processing_key(alive.id, "default")) == 1

    def test_a_task_that_never_finishes_is_given_up(self, backend, redis_client):
        result = add.enqueue(1, 2)
        redis_client.hset(backend.result_key(result.id), "deliveries", backend.max_deliveries)
        Worker(backend, burst=True).run()
        failed = add.get_result(result.id)
        assert failed.status == TaskResultStatus.FAILED
        assert failed.errors[0].exception_class is TooManyDeliveries

    def test_a_message_naming_other_code_is_refused(self, backend, redis_client):
        message = {"id": "forged", "task": "os.system", "args": ["true"], "kwargs": {}}
        redis_client.lpush(backend.queue_key("default"), json.dumps(message))
        assert Worker(backend, burst=True).run() == 1
        assert redis_client.hget(backend.result_key("forged"), "status") == "FAILED"
        errors = json.loads(redis_client.hget(backend.result_key("forged"), "errors"))
        assert errors[0]["exception_class_path"] == f"{NotATask.__module__}.NotATask"

    def test_tasks_outside_the_allowed_modules_cannot_be_queued(self, backend):
        strict = RedisBackend("strict", {"OPTIONS": {"URL": REDIS_TEST_URL}})
        with pytest.raises(InvalidTask):
            strict.validate_task(add)

    def test_worker_command_runs_in_burst_mode(self, backend):
        add.enqueue(20, 22)
        call_command("redis_worker", burst=True, verbosity=0)
        assert backend.client.llen(backend.queue_key("default")) == 0

    def test_worker_command_needs_the_redis_backend(self, settings):
        settings.TASKS = {
            "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
        }
        with pytest.raises(CommandError, match="HONGFENG_TASKS=redis"):
            call_command("redis_worker", burst=True)

    def test_sigterm_lets_the_task_in_hand_finish(self, backend, redis_client, prefix, tmp_path):
        """The real command in its own process: SIGTERM during a task → the task completes, the
        worker exits 0 and leaves no heartbeat or processing list behind."""
        tasks = {
            "default": {
                "BACKEND": "hongfeng.core.redis_tasks.RedisBackend",
                "OPTIONS": _options(prefix),
            }
        }
        (tmp_path / "scaling_worker_settings.py").write_text(
            f"from hongfeng.settings import *  # noqa: F403\nTASKS = {tasks!r}\n",
            encoding="utf-8",
        )
        result = nap.enqueue(2)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HONGFENG_")}
        env.update(
            DJANGO_SETTINGS_MODULE="scaling_worker_settings",
            PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
            DATABASE_URL="sqlite:///:memory:",
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "hongfeng", "redis_worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 90
            while nap.get_result(result.id).status == TaskResultStatus.READY:
                assert worker.poll() is None, worker.stdout.read()
                assert time.monotonic() < deadline, "the worker never started the task"
                time.sleep(0.05)
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert worker.returncode == 0, output
        assert nap.get_result(result.id).return_value == "rested"
        assert _keys(redis_client, prefix, "worker") == []
        assert _keys(redis_client, prefix, "processing") == []

    def test_passwords_stay_out_of_log_lines(self):
        assert safe_url("redis://:s3cret@cache:6379/0") == "redis://***@cache:6379/0"


# Reads routed to a replica.


class TestReplicaRouting:
    def test_reads_go_to_the_replica_only_when_asked(self):
        router = ReplicaRouter()
        assert router.db_for_read(object) == "default"
        with using_replica():
            assert replica_requested()
            assert router.db_for_read(object) == REPLICA_ALIAS
            assert router.db_for_write(object) == "default"
        assert not replica_requested()
        assert router.db_for_read(object) == "default"
        assert router.allow_migrate(REPLICA_ALIAS, "members") is False
        assert router.allow_migrate("default", "members") is None

    def test_never_inside_a_transaction(self, db):
        # The `db` fixture runs the test inside a transaction, like any writing service.
        with using_replica():
            assert ReplicaRouter().db_for_read(object) == "default"

    def test_without_a_replica_nothing_changes(self):
        from django.conf import settings

        from hongfeng.orgs.models import Unit

        assert "replica" not in settings.DATABASES
        assert settings.DATABASE_ROUTERS == []
        with using_replica():
            assert Unit.objects.all().db == "default"

    def test_mirror_of_the_test_database(self):
        """Settings from HONGFENG_REPLICA_URL, the test mirror, and where each read and write
        goes — in a child process, since settings are read at import."""
        env = _child_env(HONGFENG_REPLICA_URL=_probe_database_url())
        env["DATABASE_URL"] = env["HONGFENG_REPLICA_URL"]
        probe = subprocess.run(
            [sys.executable, str(PROBE)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert probe.returncode == 0, probe.stderr
        found = json.loads(probe.stdout.strip().splitlines()[-1])
        assert found["routers"] == ["hongfeng.core.db_routing.ReplicaRouter"]
        assert found["mirror"] == "default"
        assert found["same_database"]
        assert found["plain_read"] == {"default": 1, "replica": 0, "value": ["探针协会"]}
        assert found["replica_read"] == {"default": 0, "replica": 1, "value": ["探针协会"]}
        assert found["read_in_transaction"]["replica"] == 0
        assert found["write_in_replica_block"] == {"default": 1, "replica": 0, "value": 1}
        assert found["save_after_replica_read"]["value"] == "default"
        assert found["save_after_replica_read"]["replica"] == 1  # the read
        assert found["save_after_replica_read"]["default"] == 1  # the UPDATE
        for report in ("leaderboard", "level_distribution"):
            assert found[report]["default"] == 0, report
            assert found[report]["replica"] > 0, report


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONGFENG_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def _probe_database_url() -> str:
    """SQLite in memory, or a database of the probe's own beside the PostgreSQL under test (the
    probe's test database must not be the one this session is using)."""
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme in ("postgres", "postgresql"):
        return urlunsplit(url._replace(path=f"{url.path}_replica_probe"))
    return "sqlite:///:memory:"


# PgBouncer.


def _settings_in_child(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({a: {k: d.get(k) for k in "
        "('ENGINE', 'CONN_MAX_AGE', 'DISABLE_SERVER_SIDE_CURSORS')} "
        "for a, d in settings.DATABASES.items()}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_child_env(**env), "DJANGO_SETTINGS_MODULE": "hongfeng.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestPooler:
    PG = "postgres://hongfeng@db:5432/hongfeng"

    def test_pgbouncer_turns_off_server_side_cursors(self):
        child = _settings_in_child(
            DATABASE_URL=self.PG,
            HONGFENG_REPLICA_URL="postgres://hongfeng@replica:5432/hongfeng",
            HONGFENG_DB_POOLER="pgbouncer",
        )
        assert child.returncode == 0, child.stderr
        databases = json.loads(child.stdout)
        for alias in ("default", "replica"):
            assert databases[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
            # Persistent client connections to PgBouncer hold no server connection.
            assert databases[alias]["CONN_MAX_AGE"] == 60

    def test_without_a_pooler_server_side_cursors_stay(self):
        child = _settings_in_child(DATABASE_URL=self.PG)
        assert child.returncode == 0, child.stderr
        databases = json.loads(child.stdout)
        assert not databases["default"]["DISABLE_SERVER_SIDE_CURSORS"]
        assert "replica" not in databases

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"HONGFENG_DB_POOLER": "pgpool"}, "HONGFENG_DB_POOLER"),
            (
                {"HONGFENG_DB_POOLER": "pgbouncer", "DATABASE_URL": "sqlite:///:memory:"},
                "PostgreSQL",
            ),
            ({"HONGFENG_REPLICA_URL": "sqlite:///:memory:"}, "same engine"),
            ({"HONGFENG_TASKS": "celery"}, "HONGFENG_TASKS"),
        ],
    )
    def test_bad_values_are_refused(self, env, message):
        child = _settings_in_child(**{"DATABASE_URL": self.PG, **env})
        assert child.returncode != 0
        assert message in child.stderr
