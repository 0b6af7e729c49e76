"""Channel backends. `HONGFENG_SMS_BACKEND` / `HONGFENG_WECHAT_BACKEND` name a class with
`send(notice)`; a real gateway is one more class here. The default only writes a log line (with
the number masked by the log filter), so nothing leaves the machine unless an operator says so.

`send(notice)` sends `notice.body`. A notice that carries a secret (an activation code, see
`services.send_secret`) has the secret in `notice.secret` and the full text in `notice.body`
in memory only — the stored row holds the text with the secret masked."""

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

from hongfeng.core.masking import mask_mobile

logger = logging.getLogger("hongfeng.notices")


class ChannelError(Exception):
    """The channel refused or failed; the notice is marked failed with this message."""


class LogChannel:
    """Writes the notice to the log instead of sending it. A notice carrying a secret is logged
    with its text, the secret masked — except in development (HONGFENG_ENV=development), where
    the log is the only way to read an activation code on a demo machine."""

    def send(self, notice) -> None:
        secret = getattr(notice, "secret", "")
        if not secret:
            logger.info(
                "notice %s via %s to %s: %s",
                notice.pk,
                notice.channel,
                mask_mobile(notice.mobile),
                notice.title,
            )
            return
        text = notice.body
        if settings.HONGFENG_ENV != "development":
            text = text.replace(secret, "*" * len(secret))
        logger.info(
            "notice %s via %s to %s: %s — %s",
            notice.pk,
            notice.channel,
            mask_mobile(notice.mobile),
            notice.title,
            text,
        )


class MemoryChannel:
    """Keeps what would be sent in `MemoryChannel.outbox` (mobile, full text) — for tests and
    local experiments, like Django's locmem e-mail backend."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, notice) -> None:
        MemoryChannel.outbox.append((notice.mobile, notice.body))


def backend_for(channel: str):
    path = settings.NOTICE_BACKENDS.get(channel, "hongfeng.notices.channels.LogChannel")
    return import_string(path)()
