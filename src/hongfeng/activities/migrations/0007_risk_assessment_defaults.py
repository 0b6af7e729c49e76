"""5.4.7: per-association default safety risk assessments by activity kind."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_activity_pre_job_training"),
        ("orgs", "0002_path_statistics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RiskAssessmentDefault",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("risk_inspection", "风险排查"),
                            ("mediation", "矛盾化解"),
                            ("patrol", "巡逻守护"),
                            ("care", "关爱帮扶"),
                            ("publicity", "防范宣传"),
                            ("coordinated_response", "协同处置"),
                            ("training", "培训"),
                            ("special", "专项活动"),
                            ("security_duty", "安保勤务"),
                            ("other", "其他"),
                        ],
                        max_length=24,
                        verbose_name="活动类型",
                    ),
                ),
                ("text", models.TextField(max_length=2000, verbose_name="安全风险评估")),
                ("updated_at", models.DateTimeField()),
                ("version", models.PositiveIntegerField(default=1, verbose_name="版本")),
                (
                    "association",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="risk_assessment_defaults",
                        to="orgs.unit",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "安全风险评估模板",
                "verbose_name_plural": "安全风险评估模板",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("association", "kind"),
                        name="risk_default_once_per_kind",
                        violation_error_message="该协会已有此类活动的风险评估模板。",
                    )
                ],
            },
        ),
    ]
