from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "hongfeng.points"
    verbose_name = "积分与等级"

    def ready(self):
        from hongfeng.points import file_section

        file_section.register()
