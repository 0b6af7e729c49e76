"""How much a request may carry, in one place (security.md: input and upload limits; issue 15,
item 2.5). The limits, outermost first:

1. The reverse proxy refuses a body above MAX_REQUEST_BYTES (`client_max_body_size 11m` in
   docs/deployment.md) before it reaches a worker.
2. `RequestSizeLimitMiddleware` refuses by the declared Content-Length before anything reads
   the body: 413 above MAX_REQUEST_BYTES (11 MB) for any request; 413 above the form limit
   (DATA_UPLOAD_MAX_MEMORY_SIZE, 2 MB) for a body that carries no file (JSON, an ordinary
   form) and for a multipart body sent to a page that takes no file (the anonymous /apply/
   form among them). A page that takes a file says how large with `@accepts_upload(…)`.
3. While Django parses a body, the same DATA_UPLOAD_MAX_MEMORY_SIZE caps the fields that are
   not files (RequestDataTooBig → 413), and a file above FILE_UPLOAD_MAX_MEMORY_SIZE goes to a
   temporary file instead of memory.
4. Each form or endpoint that takes a file checks that file's size with `check_upload_size`
   before reading it: a photo 5 MB, a roster 10 MB.
"""

from django.conf import settings

from hongfeng.core.errors import DomainError

# Room for the multipart framing and the ordinary fields sent beside a file.
FORM_ALLOWANCE = 256 * 1024


def max_form_bytes() -> int:
    """The largest body without a file (JSON, forms)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def max_request_bytes() -> int:
    """The largest body of any request: the largest file we take with its form fields."""
    return settings.MAX_REQUEST_BYTES


def megabytes(size: int) -> str:
    """`10 MB`, `2 MB`, `0.5 MB` for messages."""
    value = size / (1024 * 1024)
    return f"{value:g} MB" if value >= 1 else f"{value:.1f} MB"


def too_large_message(limit: int) -> str:
    return f"提交的内容过大（上限 {megabytes(limit)}），请缩小文件或分批提交。"


class UploadTooLarge(DomainError):
    """A body or file above its limit: 413, refused before it is read."""

    status = 413
    code = "request_too_large"


def check_upload_size(upload, *, max_bytes: int, field: str, label: str) -> None:
    """Refuse an uploaded file above `max_bytes` before reading it into memory (Django has
    spooled anything large to a temporary file meanwhile)."""
    if upload is not None and upload.size > max_bytes:
        raise UploadTooLarge(
            f"{label}不能超过 {megabytes(max_bytes)}。", code="file_too_large", field=field
        )


def accepts_upload(max_bytes: int):
    """Marks a page view that takes a file of at most `max_bytes`: its multipart body may
    be that large (plus the form's fields); every other page takes the form limit."""

    def mark(view):
        view.upload_max_bytes = max_bytes
        return view

    return mark


def declared_length(request) -> int:
    """The Content-Length the client declared; 0 when absent (then Django reads nothing)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def is_multipart(request) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/")
