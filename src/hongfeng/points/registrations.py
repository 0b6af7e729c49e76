"""What the points app plugs into core (called from PointsConfig.ready();
docs/architecture.md)."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, Reach
from hongfeng.points import file_section

# An association sets its points rule (5.4.5) and runs the yearly star rating (7.2.3).
CAPABILITIES = [
    Capability("points.rules", "制定积分规则", {Role.ASSOCIATION_ADMIN: Reach.SUBTREE}),
    Capability("points.rate", "年度星级评定", {Role.ASSOCIATION_ADMIN: Reach.SUBTREE}),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # points (5.4.5, 7.2.2)
    "points.awarded": "发放活动积分",
    "points.rule_published": "发布积分规则",
    "points.rating_run": "年度星级评定",
    "points.rating_published": "公布星级评定",
}


def register() -> None:
    registry.register_audit_actions(AUDIT_ACTIONS)
    file_section.register()
    registry.capabilities.register_all(CAPABILITIES)
