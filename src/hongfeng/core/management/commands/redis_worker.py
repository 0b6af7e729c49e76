"""`hongfeng redis_worker [--queue Q ...] [--burst] [--max-tasks N]`: runs background tasks
from Redis when HONGFENG_TASKS=redis (see hongfeng.core.redis_tasks). Run one or more per
machine as a service; SIGTERM lets the task in hand finish, a killed worker's task is picked up
again by another worker within about 30 seconds."""

from django.core.management.base import BaseCommand, CommandError
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from hongfeng.core.redis_tasks import RedisBackend, Worker


class Command(BaseCommand):
    """Thin adapter: parse options, find the Redis backend, run a Worker."""

    help = "运行 Redis 任务队列中的后台任务（HONGFENG_TASKS=redis）。"

    def add_arguments(self, parser):
        """--queue (repeatable), --backend, --burst, --max-tasks."""
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            default=None,
            help="只处理这些队列（可重复；默认：后端的全部队列）",
        )
        parser.add_argument(
            "--backend", default=DEFAULT_TASK_BACKEND_ALIAS, help="TASKS 中的后端别名"
        )
        parser.add_argument(
            "--burst", action="store_true", help="处理完队列中已有的任务后退出（测试、cron 用）"
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="运行 N 个任务后退出")

    def handle(self, *args, queues=None, backend=DEFAULT_TASK_BACKEND_ALIAS, **options):
        """Run until stopped (or drained, with --burst) and report how many tasks ran."""
        tasks_backend = task_backends[backend]
        if not isinstance(tasks_backend, RedisBackend):
            raise CommandError(f"任务后端“{backend}”不是 Redis 后端；请设置 HONGFENG_TASKS=redis。")
        unknown = sorted(set(queues or []) - tasks_backend.queues)
        if unknown:
            raise CommandError(f"未配置的队列：{', '.join(unknown)}")
        worker = Worker(
            tasks_backend, queues=queues, burst=options["burst"], max_tasks=options["max_tasks"]
        )
        worker.install_signal_handlers()
        done = worker.run()
        if options["verbosity"]:
            self.stdout.write(f"已运行 {done} 个任务。")
