"""Fewer indexes to write on every audited write: the foreign keys are covered by the composite
indexes that lead with them; the action and request-id filters get one index each.

On SQLite, altering a field rebuilds the table, which drops its triggers: the append-only
trigger of 0002 is put back at the end."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from hongfeng.core.migration_operations import AddIndexOnline

_TRIGGERS = importlib.import_module("hongfeng.audit.migrations.0002_append_only_triggers")


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(_TRIGGERS.SQLITE_DOWN)
        schema_editor.execute(_TRIGGERS.SQLITE_UP)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("orgs", "0002_path_statistics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # (reversed last: the rebuilt table gets its trigger back when migrating backwards)
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger),
        # the new indexes first, built without blocking writes; then the old ones go
        AddIndexOnline(
            model_name="auditevent",
            index=models.Index(
                fields=["action"], name="audit_event_action", opclasses=["varchar_pattern_ops"]
            ),
        ),
        AddIndexOnline(
            model_name="auditevent",
            index=models.Index(fields=["request_id"], name="audit_event_request"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(max_length=64, verbose_name="操作"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="操作人",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="请求编号"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orgs.unit",
                verbose_name="范围单位",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
