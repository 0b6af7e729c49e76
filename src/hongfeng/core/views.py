"""Home page per role, health check and error pages."""

import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hongfeng.core import dashboard, uploads

logger = logging.getLogger(__name__)


@login_required
def home(request):
    """What the user is responsible for: their units with real counts, by role."""
    return render(request, "core/home.html", {"cards": dashboard.cards_for(request.user)})


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico before reading the page's <link rel="icon">."""
    return redirect(static("hongfeng/favicon.svg"))


@never_cache
@require_GET
def healthz(request):
    """Liveness and database check for load balancers: JSON, 200 or 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    413: "request_too_large",
    500: "server_error",
}


def _error(request, status: int, title: str, message: str, code: str | None = None):
    if request.path.startswith("/api/"):
        code = code or _CODES.get(status, f"http_{status}")
        return JsonResponse({"code": code, "message": message}, status=status)
    return render(request, "core/error.html", {"title": title, "message": message}, status=status)


_TITLES = {
    400: "请求有误",
    403: "无权操作",
    404: "页面不存在",
    409: "操作冲突",
    413: "提交内容过大",
    429: "请稍后再试",
}


def error_page(request, status: int, message: str, code: str | None = None):
    return _error(request, status, _TITLES.get(status, "无法完成操作"), message, code)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        # Django's own cap on the fields of a body (DATA_UPLOAD_MAX_MEMORY_SIZE), reached
        # while parsing: the body was too large, not malformed.
        return error_page(request, 413, uploads.too_large_message(uploads.max_form_bytes()))
    return _error(request, 400, "请求有误", "请求无法处理，请返回上一页重试。")


def permission_denied(request, exception=None):
    message = getattr(exception, "message", None) or "您没有权限执行此操作。"
    return _error(request, 403, "无权操作", message)


def page_not_found(request, exception=None):
    return _error(request, 404, "页面不存在", "您要找的记录不存在，或不在您的管理范围内。")


def server_error(request):
    return _error(
        request, 500, "系统繁忙", "服务器内部错误，请稍后重试。如问题持续，请联系管理员。"
    )
