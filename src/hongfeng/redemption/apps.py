from django.apps import AppConfig


class RedemptionConfig(AppConfig):
    """积分兑换: an association's catalogue and its members' orders (5.4.5)."""

    name = "hongfeng.redemption"
    verbose_name = "积分兑换"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.redemption import registrations

        registrations.register()
