"""What the activities app plugs into core, registered from ActivitiesConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.accounts.models import Role
from hongfeng.activities import api, dashboard, demo, risk_api, seed, selectors
from hongfeng.activities.services import sweep
from hongfeng.core import registry
from hongfeng.core.registry import (
    Capability,
    CardProvider,
    DemoStep,
    NavEntry,
    Reach,
    SeedStep,
    SweepStep,
    UrlInclude,
)
from hongfeng.members.selectors import has_member_file
from hongfeng.notices import answers

SUBTREE, GUIDED = Reach.SUBTREE, Reach.GUIDED
# Activities (5.2.3): who publishes and runs them — an association, a bureau or station for
# the teams it guides, a team or a squad.
_ORGANISERS = {
    Role.ASSOCIATION_ADMIN: SUBTREE,
    Role.BUREAU_OFFICER: GUIDED,
    Role.STATION_OFFICER: GUIDED,
    Role.CAPTAIN: SUBTREE,
    Role.SQUAD_LEADER: SUBTREE,
}

CAPABILITIES = [
    Capability("activities.view", "查看活动", {**_ORGANISERS, Role.GROUP_LEADER: SUBTREE}),
    Capability("activities.manage", "发布和组织活动", _ORGANISERS),
    # A team's monthly 公示 (5.2.9).
    Capability(
        "activities.publish_notice",
        "发布考勤公示",
        {Role.ASSOCIATION_ADMIN: SUBTREE, Role.CAPTAIN: SUBTREE},
    ),
]

# Audit actions: code → the label auditors read.
AUDIT_ACTIONS = {
    # activities (5.2.3, 5.2.9, 6.1.4)
    "activity.created": "创建活动",
    "activity.updated": "修改活动",
    "activity.published": "发布活动",
    "activity.cancelled": "取消活动",
    "activity.finished": "结束活动",
    "activity.signed_up": "报名活动",
    "activity.sign_up_cancelled": "取消报名",
    "activity.declined": "婉拒活动",
    "activity.check_in": "签到",
    "activity.check_out": "签退",
    "activity.manual_check_in": "组织者补签",
    "activity.auto_check_out": "系统自动签退",
    "activity.check_in_reviewed": "审核异常签到",
    "activity.rated": "评定完成质量",
    "activity.evaluated": "活动成效评价",
    "activity.hours_corrected": "更正服务时长",
    "activity.attendance_published": "发布考勤公示",
    "activity.risk_default_saved": "修改安全风险评估模板",
}

# Navigation: sidebar entries and their places in the phone bars. Volunteers (with a member
# file) see the activities open to them; organisers those they run.
NAVIGATION = [
    NavEntry(
        "activities",
        "活动",
        "activities:list",
        ("activities",),
        order=20,
        capabilities=("activities.view",),
        when=has_member_file,
        volunteer_slot=2,
        staff_slot=2,
    )
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all([*api.API_ROUTERS, risk_api.API_ROUTER, api.PUBLIC_ROUTER])
    registry.me_routes.register_all(api.ME_ROUTES)
    registry.url_includes.register_all(
        [
            UrlInclude("activities/", "hongfeng.activities.urls"),
            # public pages (no login): the monthly 公示 and published star ratings
            UrlInclude("public/", "hongfeng.activities.public_urls"),
        ]
    )
    registry.card_providers.register(
        CardProvider("activities.service", 10, dashboard.service_cards)
    )
    # The activity clock (the same steps as services.sweep_activities, in its order).
    registry.sweep_steps.register_all(
        [
            SweepStep("activities.started", "到点开始的活动", sweep.start_due),
            SweepStep("activities.finished", "到点结束的活动", sweep.finish_due),
            SweepStep("activities.checked_out", "宽限期满自动签退", sweep.check_out_due),
            SweepStep("activities.pruned", "清理过期的幂等记录", sweep.prune_idempotency_records),
            SweepStep(
                "activities.rebroadcast", "重新排队未完成的一呼百应", sweep.requeue_lost_broadcasts
            ),
        ]
    )
    registry.demo_steps.register(
        DemoStep("activities.activities", demo.build, after=("members.files",))
    )
    registry.seed_steps.register_all(
        [
            SeedStep(
                "activities.history", seed.seed_history, after=("members.people",), per_team=True
            ),
            SeedStep(
                "activities.upcoming",
                seed.seed_upcoming,
                after=("activities.history",),
                per_team=True,
            ),
        ]
    )
    # the inbox shows where a broadcast's answer stands instead of offering 报名 again
    answers.register("activity_broadcast", selectors.broadcast_answers)
