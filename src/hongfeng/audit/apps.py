from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only, hash-chained audit trail (等保 2.0 security audit)."""

    name = "hongfeng.audit"
    verbose_name = "安全审计"
