"""`Idempotency-Key` for writes that phones retry (sign-up, check-in): the first answer is
stored with the key and a fingerprint of the request; a retry with the same key gets that
answer again and changes nothing; the same key on a different request is refused."""

import hashlib
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from hongfeng.activities.models import IdempotencyRecord
from hongfeng.core import hotpath
from hongfeng.core.errors import DomainError

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,80}$")
HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.body or b"")
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, dict]:
    if record.fingerprint != fingerprint:
        raise DomainError(
            "该幂等键已用于另一个请求，请为新请求生成新的键。",
            code="idempotency_key_reused",
            field=HEADER,
        )
    return record.status, record.body


def _stored(user, key: str) -> IdempotencyRecord | None:
    return hotpath.fetch_one(IdempotencyRecord, "t0.user_id = %s AND t0.key = %s", [user.pk, key])


def run_idempotent(request, handler) -> tuple[int, dict, bool]:
    """Run `handler()` → (status, JSON-able body) once per key. Returns (status, body,
    replayed). Without the header the handler simply runs. A failed request (an error) stores
    nothing: it changed nothing, so a retry is judged afresh."""
    key = request.headers.get(HEADER, "")
    if not key:
        status, body = handler()
        return status, body, False
    if not _KEY.match(key):
        raise DomainError(
            "Idempotency-Key 须为 8–80 位字母、数字或 _ . : -（建议使用 UUID）。",
            code="invalid_idempotency_key",
            field=HEADER,
        )
    fingerprint = _fingerprint(request)
    user = request.user
    found = _stored(user, key)
    if found is not None:
        return (*_replay(found, fingerprint), True)
    try:
        with transaction.atomic():
            status, body = handler()
            # on the sign-up and check-in hot path: SQL built once (core.hotpath)
            hotpath.insert(
                IdempotencyRecord(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    status=status,
                    body=body,
                    created_at=timezone.now(),
                )
            )
    except IntegrityError:
        # The same key won a race on another connection: its answer is the answer.
        found = _stored(user, key)
        if found is None:
            raise
        return (*_replay(found, fingerprint), True)
    return status, body, False
