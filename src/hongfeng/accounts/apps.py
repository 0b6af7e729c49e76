from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts, scoped roles, login, lockout, API tokens and the access choke point."""

    name = "hongfeng.accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from hongfeng.accounts import access
        from hongfeng.orgs.models import Unit

        # a guided reach kept for the request is worked out again (access._guided_units)
        post_save.connect(access.units_changed, sender=Unit, dispatch_uid="hf-units-changed")
        post_delete.connect(access.units_changed, sender=Unit, dispatch_uid="hf-units-deleted")
