"""Background work for roster imports (django.tasks; `hongfeng db_worker` runs them). Each task
works under its import's row lock inside one transaction, so running one twice — a retry after
a killed worker — does nothing the second time, and a killed worker leaves no half-written rows
and nothing stuck: its transaction rolls back and the task can simply run again."""

from django.tasks import task

from hongfeng.core import context
from hongfeng.members import importing


@task
def validate_roster(import_id: int) -> None:
    with context.activate(context.RequestContext(request_id=f"roster-{import_id}", channel="task")):
        importing.run_validation(import_id)


@task
def import_roster(import_id: int) -> None:
    with context.activate(context.RequestContext(request_id=f"roster-{import_id}", channel="task")):
        importing.run_import(import_id)
