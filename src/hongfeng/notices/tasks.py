from django.tasks import task

from hongfeng.notices import services


@task
def deliver_notice(notice_id: int) -> None:
    services.deliver(notice_id)


@task
def deliver_notices(notice_ids: list[int]) -> None:
    services.deliver_many(notice_ids)
