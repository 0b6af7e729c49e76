"""Channel backends. `HONGFENG_SMS_BACKEND` / `HONGFENG_WECHAT_BACKEND` name a class with
`send(notice)`; a real gateway is one more class here. The default only writes a log line (with
the number masked by the log filter), so nothing leaves the machine unless an operator says so."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from hongfeng.core.masking import mask_mobile

logger = logging.getLogger("hongfeng.notices")


class ChannelError(Exception):
    """The channel refused or failed; the notice is marked failed with this message."""


class LogChannel:
    """Writes the notice to the log instead of sending it."""

    def send(self, notice) -> None:
        logger.info(
            "notice %s via %s to %s: %s",
            notice.pk,
            notice.channel,
            mask_mobile(notice.mobile),
            notice.title,
        )


def backend_for(channel: str):
    path = settings.NOTICE_BACKENDS.get(channel, "hongfeng.notices.channels.LogChannel")
    return import_string(path)()
