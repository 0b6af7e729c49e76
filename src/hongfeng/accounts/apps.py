from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts, scoped roles, login, lockout, API tokens and the access choke point."""

    name = "hongfeng.accounts"
    verbose_name = "账号与权限"
