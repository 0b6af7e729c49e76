"""What the notices app plugs into core (called from NoticesConfig.ready();
docs/architecture.md)."""

from hongfeng.core import registry
from hongfeng.core.registry import NavEntry, UrlInclude
from hongfeng.notices.services import unread_count

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    "notice.read": "阅读站内消息",
}


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
    registry.url_includes.register(UrlInclude("inbox/", "hongfeng.notices.urls"))
    registry.navigation.register_all(NAVIGATION)
    registry.register_audit_actions(AUDIT_ACTIONS)
