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
            default=None,
            help="worker 数（默认：数据库在本机时为 CPU 核数 + 1，否则为 2 × 核数 + 1）",
        )
        parser.add_argument("--timeout", type=int, default=30, help="请求超时秒数")

    def handle(self, *args, host, port, workers, timeout, **options):
        from hongfeng.core.server import default_workers, run_gunicorn

        if not 1 <= port <= 65535:
            raise CommandError("端口应在 1–65535 之间。")
        if workers is None:
            configured = os.environ.get("HONGFENG_WORKERS", "")
            try:
                workers = int(configured) if configured else default_workers()
            except ValueError:
                raise CommandError("HONGFENG_WORKERS 应为整数。") from None
        if workers < 1:
            raise CommandError("worker 数至少为 1。")

        run_gunicorn(host=host, port=port, workers=workers, timeout=timeout)
