"""Every file the platform hands out (PDFs, workbooks) goes through here, so that its name
survives in every browser (issue 15, item 3.7).

`Content-Disposition` carries the name twice (RFC 6266 with RFC 8187/5987): `filename="…"`, a
plain-ASCII fallback for old clients, and `filename*=UTF-8''…`, the real name percent-encoded.
Writing the Chinese name into the header as it is made Django encode the whole header value
the RFC 2047 way (=?utf-8?b?…?=), which browsers do not read: the download lost its name.
"""

import re
from urllib.parse import quote

from django.http import HttpResponse

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_fallback(filename: str, default: str = "download") -> str:
    """`张三-档案.pdf` → `download.pdf`; `roster-2026-12.xlsx` stays. Only characters that need
    no quoting survive; a name left without a letter or digit becomes `default`."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    stem = _UNSAFE_ASCII.sub("-", stem).strip("-._")
    extension = _UNSAFE_ASCII.sub("", extension)
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = default
    return f"{stem}.{extension}" if extension else stem


def content_disposition(filename: str, *, fallback: str | None = None, inline=False) -> str:
    """`attachment; filename="download.pdf"; filename*=UTF-8''%E5%BC%A0%E4%B8%89…`."""
    kind = "inline" if inline else "attachment"
    plain = ascii_fallback(fallback or filename)
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(
    content: bytes, *, filename: str, content_type: str, fallback: str | None = None
) -> HttpResponse:
    """A download: the file as an attachment, never cached (it holds personal data)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, fallback=fallback)
    response["Cache-Control"] = "no-store"
    return response
