"""Run by tests/core/test_scaling.py in a child process with HONGFENG_REPLICA_URL set (settings are
read once, at import, so a replica cannot be added to a running test session).

It builds the test database the way Django's test runner does — the replica alias as a test
MIRROR of default, i.e. a second connection to the same database, as if replication had no lag —
then checks where reads and writes go and prints one JSON line with what it saw. Migrations are
skipped (tables are created from the models) to keep it quick; nothing here needs their data.
"""

import json
import os
import sys

import django


def main() -> None:
    """Set up the mirrored test database, probe the routing, tear it down, print the findings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongfeng.settings")
    django.setup()

    from django.apps import apps
    from django.conf import settings
    from django.db import connections, transaction
    from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases
    from django.utils import timezone

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    old = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    found: dict = {
        "routers": settings.DATABASE_ROUTERS,
        "mirror": settings.DATABASES["replica"]["TEST"]["MIRROR"],
        "same_database": connections["replica"].settings_dict["NAME"]
        == connections["default"].settings_dict["NAME"],
    }
    try:
        from hongfeng.core.db_routing import using_replica
        from hongfeng.orgs.models import Unit, UnitKind
        from hongfeng.points import selectors

        def where(action) -> dict:
            """Run `action`; count the queries each alias saw."""
            with (
                CaptureQueriesContext(connections["default"]) as primary,
                CaptureQueriesContext(connections["replica"]) as replica,
            ):
                value = action()
            return {"default": len(primary), "replica": len(replica), "value": value}

        root = Unit.objects.create(
            name="探针协会", kind=UnitKind.PROVINCE_ASSOCIATION, path="/1/", depth=0
        )

        def read_in_replica_block():
            with using_replica():
                return list(Unit.objects.values_list("name", flat=True))

        def read_in_transaction():
            with using_replica(), transaction.atomic():
                return list(Unit.objects.values_list("name", flat=True))

        def write_in_replica_block():
            with using_replica():
                return Unit.objects.filter(pk=root.pk).update(region_code="330000")

        def save_object_read_from_replica():
            with using_replica():
                unit = Unit.objects.get(pk=root.pk)
            unit.region_code = "330100"
            unit.save(update_fields=["region_code"])
            return unit._state.db

        found["plain_read"] = where(lambda: list(Unit.objects.values_list("name", flat=True)))
        found["replica_read"] = where(read_in_replica_block)
        found["read_in_transaction"] = where(read_in_transaction)
        found["write_in_replica_block"] = where(write_in_replica_block)
        found["save_after_replica_read"] = where(save_object_read_from_replica)
        month = timezone.localdate().replace(day=1)
        found["leaderboard"] = where(lambda: selectors.leaderboard(root, month)["top"])
        found["level_distribution"] = where(lambda: len(selectors.level_distribution(root)))
    finally:
        # PostgreSQL refuses to drop a database the replica alias is still connected to.
        connections.close_all()
        teardown_databases(old, verbosity=0)
    sys.stdout.write(json.dumps(found, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
