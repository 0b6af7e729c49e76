"""`hongfeng serve`: the production server (gunicorn sync workers)."""

import os

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "以 gunicorn 同步 worker 启动生产服务（静态文件由 WhiteNoise 提供）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HONGFENG_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("HONGFENG_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("HONGFENG_WORKERS", str(2 * (os.cpu_count() or 1) + 1))),
        )
        parser.add_argument("--timeout", type=int, default=30, help="请求超时秒数")

    def handle(self, *args, host, port, workers, timeout, **options):
        if not 1 <= port <= 65535:
            raise CommandError("端口应在 1–65535 之间。")
        if workers < 1:
            raise CommandError("worker 数至少为 1。")
        from hongfeng.core.server import run_gunicorn

        run_gunicorn(host=host, port=port, workers=workers, timeout=timeout)
