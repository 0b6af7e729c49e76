"""`hongfeng seed --scale small|county|city|province [--seed N]`: load-test data in bulk."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hongfeng.core import seed as seeding


class Command(BaseCommand):
    help = "批量生成压测数据（组织、队员、活动、签到、时长与积分），同一种子结果相同。"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(seeding.SCALES), default="small", help="规模")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（0–99，默认 1）")

    def handle(self, *args, scale: str, seed: int, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("生产环境（HONGFENG_ENV=production）不生成压测数据。")
        if not 0 <= seed <= 99:
            raise CommandError("种子应在 0–99 之间。")
        spec = seeding.SCALES[scale]
        self.stdout.write(
            f"生成 {scale} 规模压测数据（种子 {seed}）：{spec.cities} 市、{spec.counties} 县、"
            f"{spec.teams} 支总队、{spec.members:,} 名队员、约 "
            f"{spec.members * spec.checkins_per_member:,} 条签到……"
        )

        def write(line: str) -> None:
            # Flushed at once, so progress shows up in a log file or a pipe too.
            self.stdout.write(line)
            self.stdout.flush()

        try:
            progress = seeding.Seeder(scale, seed, write=write).run()
        except seeding.AlreadySeeded as exc:
            raise CommandError(str(exc)) from None
        lines = progress.summary()
        for line in lines[:-1]:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"完成：{lines[-1]}"))
