"""What the redemption app plugs into core, registered from RedemptionConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, DemoStep, NavEntry, Reach, UrlInclude
from hongfeng.redemption import api, demo

CAPABILITIES = [
    # 积分兑换 (5.4.5): the catalogues of the associations in reach and their orders.
    Capability("redemption.manage", "管理兑换物品与订单", {Role.ASSOCIATION_ADMIN: Reach.SUBTREE}),
    # The captain hands redeemed items over to the team's members (orders scoped by the
    # member's unit).
    Capability("redemption.hand_over", "交付兑换物品", {Role.CAPTAIN: Reach.SUBTREE}),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # redemption (5.4.5)
    "redemption.item_created": "新增兑换物品",
    "redemption.item_updated": "修改兑换物品",
    "redemption.ordered": "积分兑换下单",
    "redemption.handed_over": "交付兑换物品",
    "redemption.cancelled": "取消兑换订单",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "redemption",
        "兑换订单",
        "redemption:orders",
        ("redemption",),
        order=130,
        capabilities=("redemption.manage", "redemption.hand_over"),
    )
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all(api.API_ROUTERS)
    registry.me_routes.register_all(api.ME_ROUTES)
    registry.url_includes.register(UrlInclude("redemption/", "hongfeng.redemption.urls"))
    # orders are paid from the points balances the points demo leaves
    registry.demo_steps.register(
        DemoStep("redemption.catalogue", demo.build, after=("points.ratings",))
    )
