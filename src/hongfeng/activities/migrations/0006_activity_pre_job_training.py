"""5.3.1: an activity of kind 培训 may be marked as 岗前培训 (open to members without it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0005_participation_fillfactor"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="pre_job_training",
            field=models.BooleanField(db_default=False, default=False, verbose_name="岗前培训"),
        ),
        migrations.AddConstraint(
            model_name="activity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("pre_job_training", False), ("kind", "training"), _connector="OR"
                ),
                name="activities_pre_job_is_training",
                violation_error_message="只有培训类活动可以标记为岗前培训。",
            ),
        ),
    ]
