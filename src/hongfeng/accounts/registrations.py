"""What the accounts app plugs into core, registered from AccountsConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from django.db.models.signals import post_delete, post_save

from hongfeng.accounts import access, api, dashboard, demo, seed
from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import (
    Capability,
    CardProvider,
    CardStats,
    DemoStep,
    NavEntry,
    Reach,
    SeedStep,
    UrlInclude,
)
from hongfeng.orgs.models import Unit

SUBTREE, GUIDED = Reach.SUBTREE, Reach.GUIDED
_LEADERS = (Role.ASSOCIATION_ADMIN, Role.BUREAU_OFFICER, Role.CAPTAIN, Role.SQUAD_LEADER)

CAPABILITIES = [
    Capability(
        "roles.view",
        "查看任职人员",
        {
            **dict.fromkeys(_LEADERS, SUBTREE),
            Role.BUREAU_OFFICER: GUIDED,
            Role.STATION_OFFICER: GUIDED,
            Role.GROUP_LEADER: SUBTREE,
            Role.SYSTEM_ADMIN: SUBTREE,
            Role.SECURITY_ADMIN: SUBTREE,
        },
    ),
    # Which roles each holder may grant is access.GRANTABLE.
    Capability(
        "roles.grant",
        "授予和撤销角色",
        {**dict.fromkeys(_LEADERS, SUBTREE), Role.SECURITY_ADMIN: SUBTREE},
    ),
    Capability(
        "accounts.view",
        "查看账号",
        {
            **dict.fromkeys(_LEADERS, SUBTREE),
            Role.SYSTEM_ADMIN: SUBTREE,
            Role.SECURITY_ADMIN: SUBTREE,
        },
    ),
    # 三权分立: the system admin keeps accounts, the security admin lifts lockouts.
    Capability("accounts.manage", "管理账号（停用、启用、重置密码）", {Role.SYSTEM_ADMIN: SUBTREE}),
    Capability("accounts.unlock", "解除账号锁定", {Role.SECURITY_ADMIN: SUBTREE}),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # authentication (security.md)
    "auth.login": "登录成功",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "账号锁定",
    "auth.unlocked": "解除锁定",
    "auth.logout": "退出登录",
    "auth.session_expired": "会话超时",
    "auth.token_issued": "签发API令牌",
    "auth.token_revoked": "吊销API令牌",
    "auth.password_changed": "修改密码",
    # accounts and roles
    "account.created": "创建账号",
    "account.disabled": "停用账号",
    "account.enabled": "启用账号",
    "account.password_reset": "重置密码",
    # activation codes (sent to the holder's own phone; issue 15, 2.2)
    "account.activation_sent": "发送账号激活码",
    "account.activation_requested": "申请账号激活码（未发送）",
    "account.activation_failed": "激活码错误",
    "account.activated": "激活账号（本人设置密码）",
    "role.granted": "授予角色",
    "role.revoked": "撤销角色",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "roles",
        "角色授权",
        "accounts:roles",
        ("accounts:roles", "accounts:grant", "accounts:role_revoke"),
        order=80,
        capabilities=("roles.view",),
        staff_slot=7,
    ),
    NavEntry(
        "accounts",
        "账号管理",
        "accounts:accounts",
        ("accounts:accounts", "accounts:account", "accounts:account_action"),
        order=90,
        capabilities=("accounts.manage", "accounts.unlock"),
        staff_slot=5,
    ),
    # 我的 (account, password, tokens, log-out): last in the sidebar and in both phone bars.
    NavEntry(
        "me",
        "我的",
        "accounts:me",
        ("accounts",),
        order=1000,
        volunteer_slot=5,
        staff_slot=99,
        personal=True,
    ),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.viewer_profile.provide(access.viewer)
    registry.api_routers.register_all([api.AUTH_ROUTER, *api.API_ROUTERS])
    registry.me_routes.register_all(api.ME_ROUTES)
    # login/, me/, roles/, accounts/ …: at the root
    registry.url_includes.register(UrlInclude("", "hongfeng.accounts.urls"))
    # the platform card, then a card per role assignment (after the activities' service card)
    registry.card_providers.register_all(
        [
            CardProvider("accounts.platform", 20, dashboard.platform_cards),
            CardProvider("accounts.assignments", 30, dashboard.assignment_cards),
        ]
    )
    registry.card_stats.register_all(
        [
            CardStats("platform", "accounts.accounts", 10, dashboard.platform_account_stats),
            CardStats("unit", "accounts.role_holders", 20, dashboard.role_holder_stats),
        ]
    )
    registry.demo_accounts.register_all(demo.ACCOUNTS)
    registry.demo_steps.register_all(
        [
            DemoStep("accounts.platform", demo.build_platform, exists=demo.exists),
            DemoStep("accounts.cast", demo.build_cast, after=("orgs.tower",), load=demo.load),
        ]
    )
    registry.seed_steps.register_all(
        [
            SeedStep("accounts.actor", seed.seed_actor),
            SeedStep(
                "accounts.officials",
                seed.seed_officials,
                after=("orgs.tower",),
                label="组织架构与各级管理员",
            ),
        ]
    )
    # a guided reach kept for the request is worked out again (access._guided_units)
    post_save.connect(access.units_changed, sender=Unit, dispatch_uid="hf-units-changed")
    post_delete.connect(access.units_changed, sender=Unit, dispatch_uid="hf-units-deleted")
