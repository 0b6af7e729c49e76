from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing: request context, errors, masking, base templates, health and home."""

    name = "hongfeng.core"
    verbose_name = "平台"

    def ready(self):
        # Django 6.1's blank choice of every select ("- Select an option -") has no Chinese
        # translation; Django documents overriding it here (issue 15, 5.6).
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = "请选择"

        from hongfeng.core import registrations

        registrations.register()
