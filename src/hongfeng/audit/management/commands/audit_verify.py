from django.core.management.base import BaseCommand, CommandError

from hongfeng.audit.services import verify_and_record


class Command(BaseCommand):
    help = "校验审计链：发现被修改、插入或删除的审计记录（哈希链 + HMAC）。"

    def handle(self, *args, **options):
        result = verify_and_record()
        for chain in result["chains"]:
            status = "正常" if not chain["problems"] else "异常"
            self.stdout.write(f"链 {chain['chain']:>3}: {chain['events']:>8} 条  {status}")
            for problem in chain["problems"]:
                self.stdout.write(f"    - {problem}")
        if not result["ok"]:
            raise CommandError("审计链校验失败：存在被篡改的审计记录。")
        self.stdout.write(self.style.SUCCESS(f"审计链校验通过：共 {result['events']} 条记录。"))
