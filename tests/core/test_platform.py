"""Settings, the `hongfeng` command, masking and log hygiene (security.md T4)."""

import logging
import os
import subprocess
import sys

import pytest

from hongfeng.core import masking
from hongfeng.core.logging import MaskPersonalDataFilter

PRODUCTION = {
    "HONGFENG_ENV": "production",
    "HONGFENG_SECRET_KEY": "k3J9-q8Zr!vX2m#Lp7Tg0Wb5Nc4Yd6Hs1Ue8Rf3Ia9Oj2Pk7Ql5Mn0Bv6Cx4Zz8",
    "HONGFENG_AUDIT_KEY": "a7Q2w9E4r1T6y3U8i5O0p2A7s4D9f6G1",
    "HONGFENG_FIELD_KEY": "f1E2l3D4k5E6y7F8i9E0l1D2k3E4y5Q6w7",
    "HONGFENG_BLIND_INDEX_KEY": "b1L2i3N4d5I6n7D8e9X0k1E2y3Z4x5C6v7",
    "HONGFENG_ALLOWED_HOSTS": "hongfeng.example.org",
}


def _run(*args, env=None):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HONGFENG_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    full_env.update(env or {})
    full_env.setdefault("DATABASE_URL", "sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "-m", "hongfeng", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestProductionSettings:
    def test_check_deploy_passes_with_real_keys(self):
        result = _run("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
        assert result.returncode == 0, result.stderr

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ({"HONGFENG_SECRET_KEY": ""}, "HONGFENG_SECRET_KEY"),
            ({"HONGFENG_SECRET_KEY": "short"}, "HONGFENG_SECRET_KEY"),
            ({"HONGFENG_AUDIT_KEY": ""}, "HONGFENG_AUDIT_KEY"),
            ({"HONGFENG_FIELD_KEY": ""}, "HONGFENG_FIELD_KEY"),
            ({"HONGFENG_BLIND_INDEX_KEY": "short"}, "HONGFENG_BLIND_INDEX_KEY"),
            ({"HONGFENG_DEBUG": "true"}, "HONGFENG_DEBUG"),
            ({"HONGFENG_DEBUG": "maybe"}, "HONGFENG_DEBUG"),
        ],
    )
    def test_production_refuses_unsafe_settings(self, override, message):
        env = {**PRODUCTION, **override}
        env = {k: v for k, v in env.items() if v != ""}
        result = _run("check", env=env)
        assert result.returncode != 0
        assert message in result.stderr

    def test_demo_refuses_production(self):
        result = _run("demo", "--no-serve", env=PRODUCTION)
        assert result.returncode != 0
        assert "生产环境" in result.stderr


def test_hongfeng_command_runs_django_commands():
    result = _run("help")
    assert result.returncode == 0
    for command in (
        "migrate",
        "createsuperuser",
        "shell",
        "demo",
        "serve",
        "audit_verify",
        "create_admin",
    ):
        assert command in result.stdout


class TestMasking:
    def test_formats(self):
        assert masking.mask_mobile("13812345678") == "138****5678"
        assert masking.mask_id_number("330681199001011234") == "3306**********1234"
        assert masking.mask_name("张三") == "张*"
        assert masking.mask_name("张小三") == "张*三"
        assert masking.mask_name("欧阳小锋") == "欧**锋"

    def test_free_text(self):
        text = "联系 13812345678，身份证 33068119900101123X，订单 123456789012345678901"
        masked = masking.mask_text(text)
        assert "13812345678" not in masked and "33068119900101123X" not in masked
        assert "123456789012345678901" in masked  # a longer digit run is not an ID

    def test_log_filter_masks_messages_and_arguments(self):
        record = logging.LogRecord(
            "x", logging.INFO, __file__, 1, "login %s from %s", ("13812345678", "1.2.3.4"), None
        )
        MaskPersonalDataFilter().filter(record)
        assert record.getMessage() == "login 138****5678 from 1.2.3.4"

    def test_log_filter_masks_tracebacks(self):
        try:
            raise ValueError("bad id 330681199001011234")
        except ValueError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
        MaskPersonalDataFilter().filter(record)
        assert "330681199001011234" not in record.exc_text
        assert "3306**********1234" in record.exc_text


def test_id_number_check_digit():
    from hongfeng.core.idnumber import check_character, is_valid_id_number

    assert check_character("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")  # wrong check digit
    assert not is_valid_id_number("110105194913310029")  # month 13


def test_log_scan_finds_leaks(tmp_path):
    from hongfeng.core.logscan import main

    clean = tmp_path / "clean.log"
    clean.write_text("login 138****5678 ok\nrequest 3306**********1234\n", encoding="utf-8")
    assert main([str(clean)]) == 0
    hex_ids = tmp_path / "ids.log"
    hex_ids.write_text("WARNING [ca18131845364ed4bc3ca5c9fa940f47] Not Found\n", encoding="utf-8")
    assert main([str(hex_ids)]) == 0
    leaky = tmp_path / "leaky.log"
    leaky.write_text(
        "user 13812345678 logged in\nid 11010519491231002X\n手机13812345678号\n", encoding="utf-8"
    )
    assert main([str(leaky)]) == 1


def test_logging_through_django_config_is_masked(tmp_path, settings):
    import logging.config

    log_file = tmp_path / "app.log"
    config = {
        **settings.LOGGING,
        "handlers": {
            **settings.LOGGING["handlers"],
            "file": {
                "class": "logging.FileHandler",
                "filename": str(log_file),
                "encoding": "utf-8",
                "formatter": "plain",
                "filters": ["request_id", "mask_personal_data"],
            },
        },
        "root": {"handlers": ["file"], "level": "INFO"},
    }
    logging.config.dictConfig(config)
    try:
        logging.getLogger("hongfeng.test").warning(
            "mobile %s id %s", "13812345678", "11010519491231002X"
        )
    finally:
        logging.config.dictConfig(settings.LOGGING)
    text = log_file.read_text(encoding="utf-8")
    assert "138****5678" in text and "1101**********002X" in text


def test_client_errors_log_without_traceback():
    from hongfeng.core.logging import QuietClientErrorsFilter

    try:
        raise PermissionError("nope")
    except PermissionError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden", (), sys.exc_info()
        )
    record.status_code = 403
    QuietClientErrorsFilter().filter(record)
    assert record.exc_info is None
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Boom",
        (),
        (ValueError, ValueError("x"), None),
    )
    record.status_code = 500
    QuietClientErrorsFilter().filter(record)
    assert record.exc_info is not None


class TestRequestContext:
    def test_forwarded_for_takes_the_proxys_entry(self, cast, settings):
        from django.test import RequestFactory

        from hongfeng.core.middleware import client_ip

        request = RequestFactory().get(
            "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.9", REMOTE_ADDR="10.0.0.1"
        )
        settings.SECURE_PROXY_SSL_HEADER = None
        assert client_ip(request) == "10.0.0.1"
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        assert client_ip(request) == "10.0.0.9"

    def test_client_request_id_is_ignored_without_a_proxy(self, cast, client):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="planted-request-id-123")
        assert response["X-Request-ID"] != "planted-request-id-123"

    def test_log_lines_carry_the_requests_id(self):
        from django.test import RequestFactory

        from hongfeng.core.logging import RequestIdFilter

        request = RequestFactory().get("/")
        request.request_id = "abc123def456"
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), None)
        record.request = request
        RequestIdFilter().filter(record)
        assert record.request_id == "abc123def456"


def test_unknown_api_url_uses_the_api_error_format(client, db):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_command_loads_once(tmp_path):
    env = {"HONGFENG_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    env = {k: v for k, v in env.items() if v}
    first = _run("demo", "--no-serve", env=env | {"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert first.returncode == 0, first.stderr
    assert "演示数据已载入" in first.stdout and "13900000030" in first.stdout
    second = _run("demo", "--no-serve", env=env | {"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert "跳过演示数据载入" in second.stdout


@pytest.mark.parametrize(
    ("database", "workers"),
    [
        ({"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}, 3),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1"}, 3),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": ""}, 3),  # the socket
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "/var/run/postgresql"}, 3),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "db-primary"}, 5),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "10.0.0.5"}, 5),
    ],
)
def test_default_workers_follow_where_the_database_is(database, workers):
    """Two cores: cores + 1 workers when the database shares the machine (measured faster by
    `python -m bench`), 2 × cores + 1 when requests also wait on the network."""
    from hongfeng.core.server import default_workers

    assert default_workers(database, cores=2) == workers


def test_serve_refuses_a_bad_worker_count(monkeypatch):
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("HONGFENG_WORKERS", "many")
    with pytest.raises(CommandError, match="HONGFENG_WORKERS"):
        call_command("serve")
    monkeypatch.setenv("HONGFENG_WORKERS", "0")
    with pytest.raises(CommandError, match="至少为 1"):
        call_command("serve")


def test_a_worker_freezes_what_it_has_loaded():
    """gunicorn's post_worker_init hook (core.server): the routes loaded, everything the worker
    holds moved out of the collector's way, young collections spaced out — in a process of its
    own, so that this test's process is left as it was."""
    code = (
        "import gc, django; django.setup()\n"
        "from hongfeng.core.server import _freeze_what_is_loaded\n"
        "from django.urls import get_resolver\n"
        "before = gc.get_freeze_count()\n"
        "_freeze_what_is_loaded(None)\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0], "
        "len(get_resolver().url_patterns))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONGFENG_")}
    env.update(
        {"DATABASE_URL": "sqlite:///:memory:", "DJANGO_SETTINGS_MODULE": "hongfeng.settings"}
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, frozen, threshold, routes = map(int, done.stdout.split())
    assert frozen - before > 50_000
    assert threshold == 10_000 and routes > 5


def test_serve_runs_gunicorn(tmp_path):
    """`hongfeng serve` starts the production server; /healthz answers through it."""
    import time
    import urllib.request

    db = f"sqlite:///{tmp_path}/serve.db"
    assert _run("migrate", env={"DATABASE_URL": db}).returncode == 0
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HONGFENG_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env["DATABASE_URL"] = db
    server = subprocess.Popen(
        [sys.executable, "-m", "hongfeng", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = None
        # a deadline, not a timing assertion: on two busy cores gunicorn took 30 s to boot
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.25)
        assert body is not None and '"status": "ok"' in body
    finally:
        server.terminate()
        server.wait(timeout=20)
