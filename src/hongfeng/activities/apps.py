from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "hongfeng.activities"
    verbose_name = "活动与签到"
