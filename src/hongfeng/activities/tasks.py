"""Background tasks (django.tasks): the broadcast of a published activity and the cancellation
notices — bulk writes inside, one task per activity."""

from django.tasks import task

from hongfeng.activities.services import run_broadcast, tell_participants


@task
def broadcast_activity(activity_id: int) -> int:
    return run_broadcast(activity_id)


@task
def tell_cancellation(activity_id: int) -> int:
    return tell_participants(activity_id)
