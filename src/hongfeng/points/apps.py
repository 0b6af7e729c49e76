from django.apps import AppConfig


class PointsConfig(AppConfig):
    """Points (积分) and levels, the yearly star rating of teams (5.4.5, 7.2)."""

    name = "hongfeng.points"
    verbose_name = "积分与等级"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.points import registrations

        registrations.register()
