import re

from django.conf import settings

from hongfeng.core import context, uploads

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def _behind_proxy() -> bool:
    return bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))


def client_ip(request) -> str | None:
    """The client address. Behind the configured reverse proxy it is the last X-Forwarded-For
    entry — the one our proxy appended; anything left of it was sent by the client and could
    be forged."""
    if _behind_proxy():
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:45] or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Gives every request an id (honouring a well-formed X-Request-ID from a proxy) and exposes
    it, with the client IP, to services and log lines; echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A request id from outside is honoured only from our own proxy (which sets it for
        # every request); a client could otherwise plant ids in the audit trail.
        incoming = request.headers.get("X-Request-ID", "") if _behind_proxy() else ""
        request_id = incoming if _REQUEST_ID.match(incoming) else context.new_request_id()
        channel = "api" if request.path.startswith("/api/") else "web"
        ctx = context.RequestContext(request_id=request_id, ip=client_ip(request), channel=channel)
        request.request_id = request_id
        with context.activate(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class DomainErrorMiddleware:
    """A DomainError that escapes a page view becomes the matching error page: 404 for anything
    out of scope, 403 with the service's Chinese message, 400/409 likewise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from hongfeng.core.errors import DomainError
        from hongfeng.core.views import error_page

        if isinstance(exception, DomainError):
            return error_page(request, exception.status, exception.message)
        return None


class RejectNullBytesMiddleware:
    """A NUL character in the query string is never legitimate and PostgreSQL cannot store or
    compare it: answer 400 before any view runs (Django's form fields refuse it in bodies,
    and the API's `Text` type in JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("QUERY_STRING", "")
        if (
            "%00" in raw
            or "\x00" in raw
            or any("\x00" in value for values in request.GET.lists() for value in values[1])
        ):
            from hongfeng.core.views import error_page

            return error_page(request, 400, "请求中含有不允许的空字符。")
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses an oversized body by its declared length before anything reads it — Django's
    own limit (RequestDataTooBig) only trips once a view or the CSRF check starts reading, and
    a multipart body's files are not counted by it at all. The limits: core.uploads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = (
            uploads.max_request_bytes()
            if uploads.is_multipart(request)
            else uploads.max_form_bytes()
        )
        if uploads.declared_length(request) > limit:
            return _too_large(request, limit)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A page takes a multipart body only as large as its view declared with
        @accepts_upload; runs before the CSRF check, which would read the body. (The API reads
        JSON through request.body, capped by Django; its upload endpoints check their file.)"""
        if request.path.startswith("/api/") or not uploads.is_multipart(request):
            return None
        takes = getattr(view_func, "upload_max_bytes", 0)
        limit = takes + uploads.FORM_ALLOWANCE if takes else uploads.max_form_bytes()
        if uploads.declared_length(request) > limit:
            return _too_large(request, limit)
        return None


def _too_large(request, limit: int):
    from hongfeng.core.views import error_page

    return error_page(request, 413, uploads.too_large_message(limit), code="request_too_large")
