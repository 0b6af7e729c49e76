"""What the notices app plugs into core, registered from NoticesConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.core import registry
from hongfeng.core.registry import NavEntry, UrlInclude
from hongfeng.notices.services import unread_count

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    "notice.read": "阅读站内消息",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "inbox",
        "消息",
        "notices:inbox",
        ("notices",),
        order=30,
        volunteer_slot=3,
        staff_slot=3,
        badge=unread_count,
        badge_label="条未读",
    )
]


def register() -> None:
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.url_includes.register(UrlInclude("inbox/", "hongfeng.notices.urls"))
