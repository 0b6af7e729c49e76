from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts, scoped roles, login, lockout, API tokens and the access choke point."""

    name = "hongfeng.accounts"
    verbose_name = "账号与权限"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.accounts import registrations

        registrations.register()
