import logging

from hongfeng.core import context
from hongfeng.core.masking import mask_text


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites every record so that no ID number or mobile number reaches a log (security.md,
    target T4). The message is rendered first so that arguments are masked too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks may quote the offending value; keep the type, mask the text.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
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
