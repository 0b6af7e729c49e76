from django.apps import AppConfig


class HonoursConfig(AppConfig):
    name = "hongfeng.honours"
    verbose_name = "荣誉、证书与警告"

    def ready(self):
        from hongfeng.honours import file_section

        file_section.register()
