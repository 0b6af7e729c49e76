"""`hongfeng create_admin`: open a platform-wide 系统管理员, 安全管理员 or 审计员 account from the
server console (the first 安全管理员 can then grant every other role in the web UI)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from hongfeng.accounts.models import THREE_POWERS, Role
from hongfeng.accounts.services import bootstrap_three_powers_account
from hongfeng.core.errors import DomainError


class Command(BaseCommand):
    help = "创建全平台系统管理员、安全管理员或审计员（三权分立，同一账号不能兼任）。"

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=sorted(THREE_POWERS))
        parser.add_argument("--mobile", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--password-stdin", action="store_true", help="从标准输入读取密码（用于脚本）"
        )

    def handle(self, *args, role, mobile, name, password_stdin, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致。")
        try:
            user = bootstrap_three_powers_account(
                mobile=mobile, name=name, password=password, role=role
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"已创建 {user.name}：全平台{Role(role).label}。"))
