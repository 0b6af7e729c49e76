"""The HTTP API under /api/v1/ (django-ninja): the routers each domain app registers, each under
its own prefix (docs/api.md), one auth scheme, one error format — `{"code": <stable code>,
"message": <Chinese>, "field": <optional>}`."""

import logging
from decimal import Decimal

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, SessionAuth

from hongfeng.core import me, numbers, registry, uploads
from hongfeng.core.errors import DomainError, Forbidden

logger = logging.getLogger(__name__)


# An account that must change its password may only do that (and read or end its session).
_PASSWORD_CHANGE_PATHS = ("/api/v1/me", "/api/v1/auth/token")


def _usable(request, user):
    if user.must_change_password and not request.path.startswith(_PASSWORD_CHANGE_PATHS):
        raise Forbidden(
            "请先修改初始密码（POST /api/v1/me/password）。", code="password_change_required"
        )
    return user


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer hf_…` from POST /api/v1/auth/token."""

    def authenticate(self, request, token):
        from hongfeng.accounts.services import find_api_token

        record = find_api_token(token)
        if record is None:
            return None
        request.user = record.user
        request.api_token = record
        return _usable(request, record.user)


class ActiveSessionAuth(SessionAuth):
    """The browser session (CSRF-checked for writes) of an active account."""

    def authenticate(self, request, key):
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        return _usable(request, user)


class _Encoder(NinjaJSONEncoder):
    """Decimals without SQLite's trailing zeros (core.numbers): "5.62", not "5.62000000000000"."""

    def default(self, o):
        if isinstance(o, Decimal):
            return str(numbers.tidy(o))
        return super().default(o)


class _Renderer(JSONRenderer):
    encoder_class = _Encoder


api = NinjaAPI(
    renderer=_Renderer(),
    title="红枫义警数字化平台 API",
    version="1",
    description=(
        "红枫式义警建设与服务规范的数字化平台接口。先用 `POST /api/v1/auth/token` 换取令牌，"
        "再以 `Authorization: Bearer <token>` 调用其余接口。所有错误返回 "
        "`{code, message, field}`；列表接口均分页（`page`, `page_size`）。"
    ),
    auth=[BearerTokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = getattr(exc, "retry_after", None)  # 429 from the login throttles
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "payload", "query")]
        fields.append({"field": ".".join(loc), "error": err.get("msg", "")})
    first = fields[0]["field"] if fields else None
    message = "请求数据不合法，请检查字段：" + "、".join(f["field"] or "请求体" for f in fields)
    return _error(request, 422, "invalid_input", message, field=first, errors=fields)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error(request, 401, "unauthenticated", "请先登录，或提供有效的访问令牌。")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return _error(request, 400, "malformed_json", "请求体不是合法的 JSON。")
    if exc.status_code == 403:
        return _error(request, 403, "forbidden", "请求被拒绝（CSRF 校验失败或无权访问）。")
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", "记录不存在或您无权访问。")


@api.exception_handler(RequestDataTooBig)
def request_too_large(request, exc):
    """Django's cap on a body without files (core.uploads), reached while reading it."""
    message = uploads.too_large_message(uploads.max_form_bytes())
    return _error(request, 413, "request_too_large", message)


@api.exception_handler(MultiPartParserError)
def malformed_multipart(request, exc):
    """A multipart body Django cannot split: no boundary, a bad one, a truncated part."""
    message = "上传请求格式不正确（multipart/form-data 缺少或损坏了分隔符），请重新选择文件上传。"
    return _error(request, 400, "malformed_multipart", message)


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request, exc):
    """Too many fields or files, a forged header: the client's fault, never a 500."""
    return _error(request, 400, "bad_request", "请求无法处理，请检查后重试。")


@api.exception_handler(Exception)
def server_error(request, exc):
    logger.exception("unhandled API error")
    return _error(
        request,
        500,
        "server_error",
        "服务器内部错误，请稍后重试。",
        request_id=getattr(request, "request_id", ""),
    )


def mount_routers(target: NinjaAPI) -> None:
    """Every app's routers under their own prefixes (registry.api_routers), then the caller's
    own things under /me (hongfeng.core.me). Two operations on one method and path would leave
    one of them unreachable without a word, so that is refused here."""
    mounts = [(r.prefix, r.router, list(r.tags)) for r in registry.api_routers]
    seen: dict[tuple[str, str], str] = {}
    for prefix, router, tags in [*mounts, *me.mounts()]:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    where = (method, f"{prefix}{path}")
                    if where in seen:
                        raise registry.RegistryError(
                            f"{method} /api/v1{prefix}{path}: served twice "
                            f"({seen[where]} and {operation.view_func.__module__})"
                        )
                    seen[where] = operation.view_func.__module__
        target.add_router(prefix, router, tags=tags)


mount_routers(api)
