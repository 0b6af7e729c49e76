import re

from django.conf import settings

from hongfeng.core import context

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
