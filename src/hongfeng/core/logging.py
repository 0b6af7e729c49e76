import logging
import re

from hongfeng.core import context
from hongfeng.core.masking import mask_text

# C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph
# separators: anything a terminal or log viewer may take for the end of a line, or hide.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _visible(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`a\\r\\nb` → `a\\x0d\\x0ab`: a request path or a typed value can no longer end a log line
    early and forge the next one, nor write a raw NUL (issue 15, item 2.7)."""
    return _CONTROL.sub(_visible, text)


def safe_log_text(text: str) -> str:
    """One log line's text: control characters made visible, ID and mobile numbers masked
    (masked last, so that nothing the escaping produced can carry a number past it)."""
    return mask_text(escape_controls(text))


def safe_continuation(text: str) -> str:
    """A traceback or stack printed under a log line: its own line breaks stay, every other
    control character is made visible, and every line is indented — so that a line break
    inside an exception's message cannot start a line that reads like a record of its own."""
    text = mask_text(_CONTROL_BUT_NEWLINE.sub(_visible, text))
    return "\n".join(f"  {line}" for line in text.split("\n"))


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites every record so that no ID number or mobile number reaches a log (security.md,
    target T4) and no control character either (a forged line, a raw NUL). The message is
    rendered first so that arguments are covered too. Applied to the application log's
    handlers (settings.LOGGING) and to gunicorn's access and error logs (core.server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = safe_log_text(message)
        if safe != message:
            record.msg = safe
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks may quote the offending value; keep the type, mask the text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text and not getattr(record, "_hongfeng_safe_exc", False):
            record.exc_text = safe_continuation(record.exc_text)
            record._hongfeng_safe_exc = True  # several handlers share one record
        if record.stack_info and not getattr(record, "_hongfeng_safe_stack", False):
            record.stack_info = safe_continuation(record.stack_info)
            record._hongfeng_safe_stack = True
        return True


class QuietClientErrorsFilter(logging.Filter):
    """A 403 or 404 is the client's mistake, not ours: keep the one-line warning, drop the
    traceback Django attaches (it reads like a crash in the console)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RequestIdFilter(logging.Filter):
    """Adds the current request id so a log line can be matched to its audit events."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs 4xx/5xx responses after the middleware has finished; it passes the
        # request along, so take the id from there when it is available.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or context.current().request_id
        return True
