"""What the orgs app plugs into core, registered from OrgsConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.core import registry
from hongfeng.core.registry import Capability, DemoStep, NavEntry, Reach, SeedStep, UrlInclude
from hongfeng.orgs import api, demo, seed

SUBTREE, BELOW, GUIDED, CHAIN = Reach.SUBTREE, Reach.BELOW, Reach.GUIDED, Reach.CHAIN

# Roles are named by their value (hongfeng.accounts.models.Role): orgs sits below accounts and
# does not import it; the access module refuses a role it does not know.
# Leaders (association admins, police, team leaders) manage their own subtree; the three
# powers configure the tower; police see the teams they guide (属地管理 5.1.1); a 队员 sees the
# units they belong to.
CAPABILITIES = [
    Capability(
        "orgs.view",
        "查看组织架构",
        {
            "association_admin": SUBTREE,
            "bureau_officer": GUIDED,
            "station_officer": GUIDED,
            "captain": SUBTREE,
            "squad_leader": SUBTREE,
            "group_leader": SUBTREE,
            "volunteer": CHAIN,
            "system_admin": SUBTREE,
            "security_admin": SUBTREE,
            "auditor": SUBTREE,
        },
    ),
    Capability(
        "orgs.add_child",
        "新建下级单位",
        {
            "association_admin": SUBTREE,
            "bureau_officer": SUBTREE,
            "captain": SUBTREE,
            "squad_leader": SUBTREE,
            "system_admin": SUBTREE,
        },
    ),
    # One's own unit is managed from above: BELOW, not SUBTREE.
    Capability(
        "orgs.manage",
        "管理下级单位（改名、调整上级、归档）",
        {
            "association_admin": BELOW,
            "bureau_officer": BELOW,
            "captain": BELOW,
            "squad_leader": BELOW,
            "system_admin": BELOW,
        },
    ),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # the organisation tower (5.1)
    "unit.created": "新建单位",
    "unit.renamed": "重命名单位",
    "unit.moved": "调整上级单位",
    "unit.archived": "归档单位",
    "unit.restored": "恢复单位",
    "unit.station_changed": "更换指导派出所",
    "team.onboarded": "队伍一键入驻",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "orgs",
        "组织架构",
        "orgs:tree",
        ("orgs",),
        order=60,
        capabilities=("orgs.view",),
        staff_slot=8,
    )
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all(api.API_ROUTERS)
    registry.url_includes.register(UrlInclude("orgs/", "hongfeng.orgs.urls"))
    # the tower is built by the demo's system admin
    registry.demo_steps.register(
        DemoStep(
            "orgs.tower",
            demo.build,
            after=("accounts.platform",),
            load=demo.load,
            exists=demo.exists,
        )
    )
    registry.seed_steps.register(
        SeedStep("orgs.tower", seed.build_tower, after=("accounts.actor",), exists=seed.exists)
    )
