"""What the honours app plugs into core, registered from HonoursConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.accounts import access
from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, DemoStep, NavEntry, Reach, UrlInclude
from hongfeng.honours import api, demo, file_section
from hongfeng.members.selectors import has_member_file

SUBTREE = Reach.SUBTREE
_KEEPERS = {Role.ASSOCIATION_ADMIN: SUBTREE, Role.CAPTAIN: SUBTREE}

# Honours, certificates and violations (5.2.10): an association defines honour titles and the
# violation rule; association admins and captains grant honours, issue certificates and
# warnings for members in their subtree; only the captain decides on a proposed exit.
CAPABILITIES = [
    Capability("honours.grant", "授予荣誉、开具证书", _KEEPERS),
    Capability("honours.rules", "设立荣誉称号与警告退出规则", {Role.ASSOCIATION_ADMIN: SUBTREE}),
    Capability("violations.warn", "警告队员", _KEEPERS),
    Capability("violations.decide", "决定队员退出", {Role.CAPTAIN: SUBTREE}),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # honours, certificates and violations (5.2.10)
    "honour.title_created": "设立荣誉称号",
    "honour.title_retired": "停用荣誉称号",
    "honour.granted": "授予荣誉称号",
    "certificate.issued": "开具证书",
    "certificate.downloaded": "下载证书",
    "certificate.revoked": "撤销证书",
    "violation.rule_set": "设置警告退出规则",
    "violation.warned": "警告队员",
    "violation.exit_proposed": "建议退出",
    "violation.exit_confirmed": "确认退出",
    "violation.exit_rejected": "不予退出",
}


def decides_exits_only(user) -> bool:
    """A captain's deputy for exits without the honours desk: the desk's violations page."""
    return not access.has_capability(user, "honours.grant") and access.has_capability(
        user, "violations.decide"
    )


# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "honours_mine",
        "荣誉证书",
        "honours:mine",
        ("honours:mine",),
        order=110,
        when=has_member_file,
        personal=True,
    ),
    NavEntry(
        "honours",
        "荣誉与警告",
        "honours:desk",
        ("honours",),
        order=120,
        capabilities=("honours.grant",),
    ),
    NavEntry(
        "violations",
        "警告与退出",
        "honours:violations",
        ("honours",),
        order=121,
        when=decides_exits_only,
    ),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all(api.API_ROUTERS)
    registry.me_routes.register_all(api.ME_ROUTES)
    registry.url_includes.register_all(
        [
            UrlInclude("honours/", "hongfeng.honours.urls"),
            # public certificate verification (no login): the QR code on every certificate
            UrlInclude("verify/", "hongfeng.honours.public_urls"),
        ]
    )
    # the rule grants count this year's points and hours from the activities demo
    registry.demo_steps.register(
        DemoStep("honours.honours", demo.build, after=("activities.activities",))
    )
    file_section.register()
