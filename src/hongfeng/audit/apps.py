from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only, hash-chained audit trail (等保 2.0 security audit)."""

    name = "hongfeng.audit"
    verbose_name = "安全审计"

    def ready(self):
        # What this app plugs into core: docs/architecture.md, "Adding a domain".
        from hongfeng.audit import registrations

        registrations.register()
