from django.apps import AppConfig


class OrgsConfig(AppConfig):
    """The organisation tower (5.1): associations, bureaus, stations, teams, squads, groups."""

    name = "hongfeng.orgs"
    verbose_name = "组织架构"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.orgs import registrations

        registrations.register()
