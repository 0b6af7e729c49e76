from django.apps import AppConfig


class MembersConfig(AppConfig):
    """一人一档 member files, dynamic status, recruitment and rosters (5.2.2, 5.2.6, 5.2.7)."""

    name = "hongfeng.members"
    verbose_name = "队员档案"
