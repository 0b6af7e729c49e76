from django.apps import AppConfig


class HonoursConfig(AppConfig):
    """Honours, certificates, warnings and exits (5.2.10)."""

    name = "hongfeng.honours"
    verbose_name = "荣誉、证书与警告"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.honours import registrations

        registrations.register()
