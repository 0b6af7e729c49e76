"""`hongfeng grant_honours`: grant every rule honour title to the members who now meet it
(hours or points thresholds). Idempotent — run it daily from cron; twice does no harm."""

from django.core.management.base import BaseCommand

from hongfeng.honours.services import grant_honours_by_rule


class Command(BaseCommand):
    help = "按规则授予荣誉称号（服务时长或积分达到门槛；可重复运行）。"

    def handle(self, *args, **options):
        made = grant_honours_by_rule()
        self.stdout.write(f"granted={len(made)}")
