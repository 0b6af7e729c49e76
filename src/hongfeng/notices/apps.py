from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """Messages to people through one channel interface (SMS, WeChat, in-app inbox)."""

    name = "hongfeng.notices"
    verbose_name = "消息通知"
