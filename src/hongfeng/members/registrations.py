"""What the members app plugs into core, registered from MembersConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import (
    Capability,
    CardStats,
    DemoStep,
    NavEntry,
    Reach,
    SeedStep,
    UrlInclude,
)
from hongfeng.members import api, dashboard, demo, recruitment_api, seed
from hongfeng.members.selectors import has_member_file

SUBTREE, GUIDED = Reach.SUBTREE, Reach.GUIDED
_KEEPERS = (Role.ASSOCIATION_ADMIN, Role.CAPTAIN)

# Member files (一人一档): who reads them masked, who keeps them, who may reveal plaintext
# (with a reason, audited). The three powers get none of these: no business personal data.
CAPABILITIES = [
    Capability(
        "members.view",
        "查看队员档案（脱敏）",
        {
            **dict.fromkeys(_KEEPERS, SUBTREE),
            Role.BUREAU_OFFICER: GUIDED,
            Role.STATION_OFFICER: GUIDED,
            Role.SQUAD_LEADER: SUBTREE,
            Role.GROUP_LEADER: SUBTREE,
        },
    ),
    # A squad leader keeps the squad's files but sees personal data masked.
    Capability(
        "members.manage",
        "维护队员档案",
        {**dict.fromkeys(_KEEPERS, SUBTREE), Role.SQUAD_LEADER: SUBTREE},
    ),
    # 属地管理: the station knows the real names of the volunteers it guides.
    Capability(
        "members.reveal",
        "查看明文个人信息（说明理由，留审计）",
        {**dict.fromkeys(_KEEPERS, SUBTREE), Role.STATION_OFFICER: GUIDED},
    ),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # member files (5.2.7)
    "member.registered": "登记队员",
    "member.updated": "修改队员档案",
    "member.contact_updated": "本人修改联系方式",
    "member.status_changed": "变更队员状态",
    "member.moved": "调整队员所在单位",
    "member.photo_updated": "更换队员照片",
    "member.partnered": "1+1 结对",
    "member.revealed": "查看明文个人信息",
    "member.certificate_added": "登记证书",
    "member.certificate_removed": "删除证书记录",
    "member.insurance_added": "登记保险",
    "member.equipment_issued": "发放装备",
    "member.equipment_returned": "归还装备",
    "member.pre_job_training": "登记岗前培训",
    "member.exported": "导出队员名册",
    "member.pdf_exported": "导出队员档案PDF",
    "roster.uploaded": "上传队员名册",
    "roster.confirmed": "确认导入队员名册",
    "roster.imported": "导入队员名册",
    # recruitment (5.2.2)
    "charter.published": "发布队伍章程",
    "application.submitted": "提交入队申请",
    "application.approved": "入队申请通过",
    "application.rejected": "入队申请未通过",
}

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry(
        "profile",
        "我的档案",
        "members:me",
        ("members:me",),
        order=50,
        when=has_member_file,
        personal=True,
    ),
    NavEntry(
        "members",
        "队员档案",
        "members:list",
        ("members",),
        order=70,
        capabilities=("members.view",),
        staff_slot=4,
    ),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all([*api.API_ROUTERS, *recruitment_api.API_ROUTERS])
    registry.url_includes.register_all(
        [
            UrlInclude("members/", "hongfeng.members.urls"),
            # public recruitment (no login): 申请入队
            UrlInclude("apply/", "hongfeng.members.apply_urls"),
        ]
    )
    registry.card_stats.register(
        CardStats("unit", "members.serving", 10, dashboard.serving_member_stats)
    )
    registry.demo_steps.register_all(
        [
            DemoStep("members.files", demo.build, after=("accounts.cast",)),
            DemoStep("members.recruitment", demo.build_recruitment, after=("members.files",)),
            DemoStep(
                "members.roster_import", demo.build_roster_import, after=("members.recruitment",)
            ),
        ]
    )
    registry.seed_steps.register(
        SeedStep(
            "members.people",
            seed.seed_people,
            after=("accounts.officials",),
            per_team=True,
            prepare=seed.load_skills,
        )
    )
