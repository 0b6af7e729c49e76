"""`hongfeng sweep [--loop SECONDS] [--step NAME …]`: every registered sweep step, in order
(registry.sweep_steps: activities start and finish, automatic check-out after the grace period,
old idempotency keys pruned, lost broadcasts queued again, …), printing each step's count. Run
it from cron every minute or as a service with --loop; every step is idempotent, so two at once
do no harm."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hongfeng.core import registry


class Command(BaseCommand):
    help = "运行各模块登记的到期处理步骤（活动开始、结束、自动签退等；可重复运行）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=int, default=0, help="每隔 N 秒运行一次（0 = 只运行一次）"
        )
        parser.add_argument(
            "--step",
            action="append",
            dest="steps",
            metavar="NAME",
            help="只运行这一步（可重复）："
            + "、".join(f"{s.name}（{s.label}）" for s in registry.sweep_steps),
        )

    def handle(self, *args, loop: int = 0, steps: list[str] | None = None, **options):
        chosen = list(registry.sweep_steps)
        if steps:
            unknown = [name for name in steps if name not in registry.sweep_steps]
            if unknown:
                known = "、".join(s.name for s in chosen)
                raise CommandError(f"没有这一步：{'、'.join(unknown)}。可选：{known}")
            chosen = [s for s in chosen if s.name in steps]  # still in the registry's order
        while True:
            now = timezone.now()
            counts = {step.name: step.run(now) for step in chosen}
            if any(counts.values()) or not loop:
                self.stdout.write(" ".join(f"{name}={n}" for name, n in counts.items()))
            if not loop:
                return
            time.sleep(loop)
