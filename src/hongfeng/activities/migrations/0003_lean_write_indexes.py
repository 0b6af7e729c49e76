"""Fewer indexes to write on every check-in and sign-up: the foreign keys are covered by the
composite indexes that lead with them; flagged check-ins get a partial index of their own."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from hongfeng.core.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("activities", "0002_activity_broadcast_done_at"),
        ("members", "0010_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # the new indexes first, built without blocking writes; then the old ones go
        AddIndexOnline(
            model_name="checkin",
            index=models.Index(
                condition=models.Q(("flagged", True)), fields=["activity"], name="checkins_flagged"
            ),
        ),
        migrations.AlterField(
            model_name="checkin",
            name="activity",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="checkins",
                to="activities.activity",
            ),
        ),
        migrations.AlterField(
            model_name="checkin",
            name="flagged",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="checkin",
            name="member",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="checkins",
                to="members.member",
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="activity",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="participations",
                to="activities.activity",
            ),
        ),
    ]
