"""Who is acting, from where, in which request — available to services without threading the
request object through every call (audit events need the IP and request id)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    """The origin of the work being done: an HTTP request, a command or a background task."""

    request_id: str
    ip: str | None = None
    channel: str = "web"


_current: ContextVar[RequestContext | None] = ContextVar("hongfeng_request_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> RequestContext:
    """The active context. Work outside any request (a command, a task) counts as a system job;
    wrap it in `activate(...)` to give all its events one id."""
    ctx = _current.get()
    if ctx is None:
        # Not stored: storing would pin this id on the thread for every later log line.
        return RequestContext(request_id=new_request_id(), channel="system")
    return ctx


@contextmanager
def activate(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
