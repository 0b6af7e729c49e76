"""What the notices app plugs into core (called from NoticesConfig.ready();
docs/architecture.md)."""

from hongfeng.core import registry

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    "notice.read": "阅读站内消息",
}


def register() -> None:
    registry.register_audit_actions(AUDIT_ACTIONS)
