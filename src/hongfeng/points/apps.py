from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "hongfeng.points"
    verbose_name = "积分与等级"
