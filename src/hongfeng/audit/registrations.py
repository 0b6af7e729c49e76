"""What the audit app plugs into core, registered from AuditConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.accounts.models import Role
from hongfeng.audit import api, dashboard
from hongfeng.core import registry
from hongfeng.core.registry import Capability, CardStats, NavEntry, Reach, UrlInclude

# 三权分立: the auditor reads the audit records, and nobody else does.
CAPABILITIES = [Capability("audit.view", "查看审计记录", {Role.AUDITOR: Reach.SUBTREE})]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    "audit.verified": "校验审计链",
    "audit.verify_requested": "发起审计链校验",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "audit",
        "安全审计",
        "audit:events",
        ("audit",),
        order=140,
        capabilities=("audit.view",),
        staff_slot=6,
    )
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all(api.API_ROUTERS)
    registry.url_includes.register(UrlInclude("audit/", "hongfeng.audit.urls"))
    registry.card_stats.register(
        CardStats("platform", "audit.recent", 20, dashboard.recent_event_stats)
    )
