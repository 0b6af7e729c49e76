"""`hongfeng demo`: migrate, load the demo data into an empty database, and serve it."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from hongfeng.core import demo


class Command(BaseCommand):
    help = "迁移数据库、在空库中载入演示数据，并在 127.0.0.1 上启动演示服务。"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--no-serve", action="store_true", help="只迁移并载入数据，不启动服务")

    def handle(self, *args, port, no_serve, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("生产环境（HONGFENG_ENV=production）不创建演示数据。")
        if not 1 <= port <= 65535:
            raise CommandError("端口应在 1–65535 之间。")
        call_command("migrate", interactive=False, verbosity=0)
        if demo.is_empty():
            self.stdout.write("正在载入演示数据……")
            demo.build()
            self.stdout.write(self.style.SUCCESS("演示数据已载入。"))
        else:
            self.stdout.write("数据库中已有数据，跳过演示数据载入。")
        self._print_logins(port)
        if not no_serve:
            from hongfeng.core.server import run_gunicorn, start_task_worker

            start_task_worker()
            run_gunicorn(host="127.0.0.1", port=port, workers=2)

    def _print_logins(self, port: int) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"打开 http://127.0.0.1:{port}/ 登录"))
        self.stdout.write(f"API 文档：http://127.0.0.1:{port}/api/v1/docs")
        self.stdout.write(f"所有演示账号的密码：{demo.DEMO_PASSWORD}")
        self.stdout.write("")
        for account in demo.ACCOUNTS:
            self.stdout.write(
                f"  {account.mobile}  {account.name:<4}  {account.role.label:<6}  {account.note}"
            )
        self.stdout.write("")
