"""Domain errors: a stable machine-readable code, a Chinese message for people, an HTTP status.

Services raise these; the API turns them into `{"code", "message", "field"}` JSON and pages show
the message next to the field. Raising one inside a service's transaction rolls everything back,
so bad input changes nothing.
"""


class DomainError(Exception):
    """A request that cannot be carried out as asked."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class NotFound(DomainError):
    """Unknown, or outside the caller's scope — the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "记录不存在或您无权访问。", **kwargs):
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    """The record is visible to the caller but the action is not theirs to take."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a stale version)."""

    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    code = "stale_version"

    def __init__(self, message: str = "该记录已被他人修改，请刷新后重试。", **kwargs):
        super().__init__(message, **kwargs)


def check_version(obj, expected: int | None) -> None:
    """Optimistic concurrency (security.md: a stale write gets 409, never a silent overwrite)."""
    if expected is not None and obj.version != expected:
        raise StaleVersion(field="version")
