from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Activities and tasks (5.2.3): publishing, sign-up, check-in, hours and the monthly 公示."""

    name = "hongfeng.activities"
    verbose_name = "活动与签到"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.activities import registrations

        registrations.register()
