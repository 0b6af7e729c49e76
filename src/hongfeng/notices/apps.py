from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """Messages to people through one channel interface (SMS, WeChat, in-app inbox)."""

    name = "hongfeng.notices"
    verbose_name = "消息通知"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.notices import registrations

        registrations.register()
