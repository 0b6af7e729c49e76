"""What the points app plugs into core, registered from PointsConfig.ready(): see
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
from hongfeng.members.selectors import has_member_file
from hongfeng.points import api, dashboard, demo, file_section, seed

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

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    # One's own points; the redemption catalogue and one's orders are spent from them, so they
    # highlight this entry too.
    NavEntry(
        "points",
        "积分",
        "points:mine",
        ("points", "redemption:catalogue", "redemption:mine", "redemption:order"),
        order=40,
        when=has_member_file,
        volunteer_slot=4,
        personal=True,
    ),
    NavEntry(
        "ranking",
        "排行与星级",
        "points:ranking",
        ("points:ranking", "points"),
        order=100,
        capabilities=("points.rate", "members.view"),
    ),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
    registry.register_audit_actions(AUDIT_ACTIONS)
    registry.navigation.register_all(NAVIGATION)
    registry.api_routers.register_all([*api.API_ROUTERS, api.PUBLIC_ROUTER])
    registry.me_routes.register_all(api.ME_ROUTES)
    registry.url_includes.register(UrlInclude("points/", "hongfeng.points.urls"))
    registry.card_stats.register(CardStats("unit", "points.stars", 30, dashboard.team_star_stats))
    # After the honours demo: last year's history written here must not count towards the
    # honour titles the honours demo grants by rule (优秀义警 at 100 points).
    registry.demo_steps.register(
        DemoStep("points.ratings", demo.build, after=("activities.activities", "honours.honours"))
    )
    registry.seed_steps.register(
        SeedStep("points.awards", seed.seed_awards, after=("activities.history",), per_team=True)
    )
    file_section.register()
