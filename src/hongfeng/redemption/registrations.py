"""What the redemption app plugs into core (called from RedemptionConfig.ready();
docs/architecture.md)."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, Reach

CAPABILITIES = [
    # 积分兑换 (5.4.5): the catalogues of the associations in reach and their orders.
    Capability("redemption.manage", "管理兑换物品与订单", {Role.ASSOCIATION_ADMIN: Reach.SUBTREE}),
    # The captain hands redeemed items over to the team's members (orders scoped by the
    # member's unit).
    Capability("redemption.hand_over", "交付兑换物品", {Role.CAPTAIN: Reach.SUBTREE}),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
