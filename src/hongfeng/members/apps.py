from django.apps import AppConfig


class MembersConfig(AppConfig):
    """一人一档 member files, dynamic status, recruitment and rosters (5.2.2, 5.2.6, 5.2.7)."""

    name = "hongfeng.members"
    verbose_name = "队员档案"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.members import registrations

        registrations.register()
