from django.apps import AppConfig


class OrgsConfig(AppConfig):
    """The organisation tower (5.1): associations, bureaus, stations, teams, squads, groups."""

    name = "hongfeng.orgs"
    verbose_name = "组织架构"
