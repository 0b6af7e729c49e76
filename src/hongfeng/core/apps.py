from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing: request context, errors, masking, base templates, health and home."""

    name = "hongfeng.core"
    verbose_name = "平台"
