"""The rotating check-in code shown on the organiser's phone (5.2.9).

A token names the activity and a 30-second window and carries an HMAC over both with a key
derived from SECRET_KEY, so it cannot be forged or moved to another activity. It is accepted
for the window it names and the one after (a member scanning at the turn of a window is not
refused); offline scans are judged by the time the phone says it scanned.
"""

import base64
import hashlib
import hmac
from datetime import datetime

from django.conf import settings

WINDOW_SECONDS = 30
PREFIX = "HFQR"


def _key() -> bytes:
    return hashlib.sha256(b"hongfeng.activities.qr:" + settings.SECRET_KEY.encode()).digest()


def window_of(moment: datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


def _mac(activity_id: int, window: int) -> str:
    message = f"{activity_id}.{window}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(activity_id: int, moment: datetime) -> str:
    window = window_of(moment)
    return f"{PREFIX}.{activity_id}.{window}.{_mac(activity_id, window)}"


def expires_at(moment: datetime) -> int:
    """Unix time at which the token for `moment` stops being shown."""
    return (window_of(moment) + 1) * WINDOW_SECONDS


class BadToken(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check(token: str, *, activity_id: int, scanned_at: datetime) -> None:
    """Raise BadToken("qr_forged" | "qr_wrong_activity" | "qr_expired") unless the token is
    genuine, for this activity, and was current when it was scanned."""
    parts = (token or "").strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[1].isdigit() or not parts[2].isdigit():
        raise BadToken("qr_forged")
    token_activity, window = int(parts[1]), int(parts[2])
    if not hmac.compare_digest(parts[3], _mac(token_activity, window)):
        raise BadToken("qr_forged")
    if token_activity != activity_id:
        raise BadToken("qr_wrong_activity")
    if window_of(scanned_at) - window not in (0, 1):
        raise BadToken("qr_expired")
