"""`hongfeng sweep [--loop SECONDS]`: the idempotent clock sweep (activities start and finish,
automatic check-out after the grace period, old idempotency keys pruned). Run it from cron every
minute or as a service with --loop; two at once do no harm."""

import time

from django.core.management.base import BaseCommand

from hongfeng.activities.services import sweep_activities


class Command(BaseCommand):
    help = "推进活动时钟：开始、结束、自动签退（可重复运行）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=int, default=0, help="每隔 N 秒运行一次（0 = 只运行一次）"
        )

    def handle(self, *args, loop: int = 0, **options):
        while True:
            counts = sweep_activities()
            if any(counts.values()) or not loop:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
            if not loop:
                return
            time.sleep(loop)
