"""Log lines cannot be forged and carry no personal data (issue 15, item 2.7; security.md T4):
control characters are made visible and ID and mobile numbers masked, in the application log
here and in gunicorn's access log (tests/core/test_serving.py)."""

import io
import logging
import sys

import pytest
from django.test import Client

from hongfeng.core.logging import MaskPersonalDataFilter, escape_controls

ID_NUMBER = "11010519491231002X"
FORGED = "1999-01-01 00:00:00,000 INFO hongfeng.accounts [-] FORGED login ok"
# What a client puts in a path: a line break and a line of its own, an ID number, a NUL.
PATHS = [
    "/apply/x%0d%0a" + FORGED.replace(" ", "%20") + "/",
    f"/apply/{ID_NUMBER}/",
    "/apply/nul%00byte/",
]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\r\nb", "a\\x0d\\x0ab"),
        ("nul\x00", "nul\\x00"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("tab\there", "tab\\x09here"),
        ("del\x7f c1\x85 \x9b", "del\\x7f c1\\x85 \\x9b"),
        ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
        ("中文 路径/ok", "中文 路径/ok"),
    ],
)
def test_escape_controls(raw, shown):
    assert escape_controls(raw) == shown


def test_the_filter_escapes_and_masks_the_rendered_message():
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "Not Found: %s", (f"/a\r\n{FORGED}/{ID_NUMBER}",), None
    )
    MaskPersonalDataFilter().filter(record)
    message = record.getMessage()
    assert "\r" not in message and "\n" not in message
    assert "\\x0d\\x0a1999-01-01" in message
    assert ID_NUMBER not in message and "1101**********002X" in message


def test_a_traceback_cannot_start_a_line_of_its_own():
    try:
        raise ValueError(f"bad\r\n{FORGED}\x00")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    MaskPersonalDataFilter().filter(record)
    lines = record.exc_text.split("\n")
    assert all(line.startswith("  ") for line in lines)
    assert "\r" not in record.exc_text and "\x00" not in record.exc_text
    assert not any(line.startswith("1999") for line in lines)


@pytest.fixture
def app_log():
    """What the configured application log handlers write (settings.LOGGING's console
    handler, with its filters), captured."""
    buffer = io.StringIO()
    # The console handler only: .ci/run also writes a log file (HONGFENG_LOG_FILE), whose
    # handler is a StreamHandler too and would write every line a second time here.
    handlers = [
        h
        for h in logging.getLogger().handlers
        if h.filters
        and isinstance(h, logging.StreamHandler)
        and not isinstance(h, logging.FileHandler)
    ]
    assert handlers, "the console handler from settings.LOGGING"
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=False):
        handler.setStream(stream)


def test_request_log_lines_are_escaped_and_masked(db, app_log):
    client = Client()
    for path in PATHS:
        assert client.get(path).status_code in (400, 404)
    written = app_log.getvalue()
    lines = written.splitlines()
    assert len([line for line in lines if "Not Found" in line or "Bad Request" in line]) == 3
    assert not any("FORGED" in line and not line.startswith("20") for line in lines)
    assert all(line[:2] == "20" for line in lines)  # every line is a record of its own
    assert ID_NUMBER not in written and "1101**********002X" in written
    assert "\r" not in written and "\x00" not in written


def test_any_application_log_line_is_escaped(app_log):
    """Django escapes the paths it logs itself; our own lines quote input too (a mobile typed
    at login, a file name) and go through the same handlers."""
    logging.getLogger("hongfeng.accounts").warning(
        "login failed for %s", f"13912345678\r\n{FORGED}\x00"
    )
    (line,) = app_log.getvalue().splitlines()
    assert "login failed for 139****5678\\x0d\\x0a1999-01-01" in line
    assert line.endswith("FORGED login ok\\x00")


def test_gunicorn_access_atoms_are_escaped_and_masked_but_the_request_id_stays():
    """core.server.SafeLogger: what the client sent is made safe; the request id — hex that
    may hold a run of digits looking like a mobile number — stays whole for matching lines."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from hongfeng.core.server import ACCESS_LOG_FORMAT, SafeLogger

    config = Config()
    config.set("access_log_format", ACCESS_LOG_FORMAT)
    config.set("accesslog", None)
    logger = SafeLogger(config)
    request_id = "ab13812345678cd0123456789abcdef0"
    response = SimpleNamespace(status="404 Not Found", headers=[("X-Request-ID", request_id)])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/apply/{ID_NUMBER}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/apply/x\r\n{FORGED}/{ID_NUMBER}\x00",
    }
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=1))
    assert atoms["U"] == f"/apply/x\\x0d\\x0a{FORGED}/1101**********002X\\x00"
    assert atoms["{x-request-id}o"] == request_id
    message = ACCESS_LOG_FORMAT % logger.atoms_wrapper_class(atoms)
    assert "\n" not in message and message.endswith(request_id)
