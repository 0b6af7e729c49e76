"""A test-only app that plugs one entry into every registry, as a new domain would from its
AppConfig.ready() (tests/core/test_registry.py installs it into scratch registries)."""

from django.apps import AppConfig
from ninja import Router

from hongfeng.core import registry
from hongfeng.core.dashboard import Card, Stat, contributed_stats
from hongfeng.core.registry import (
    ApiRouter,
    Capability,
    CardProvider,
    CardStats,
    ClauseCheck,
    DemoStep,
    MeRoute,
    NavEntry,
    Period,
    Reach,
    SeedStep,
    SweepStep,
    UrlInclude,
    Word,
)
from hongfeng.core.seed import SeedUnit

router = Router()


@router.get("/{thing_id}")
def plugin_thing(request, thing_id: int):
    return {"id": thing_id}


me_router = Router()


@me_router.get("")
def my_plugin_things(request):
    return []


calls: list[str] = []


def plugin_cards(user) -> list[Card]:
    card = Card(title="插件", subtitle="测试")
    card.stats.extend(contributed_stats("plugin", user, "插件单位"))
    return [card]


def plugin_stats(user, subject) -> list[Stat]:
    return [Stat(f"关于{subject}", 3, "个", "/")]


def sweep_things(now) -> int:
    calls.append("sweep")
    return 2


def one_captain_per_team(*, unit, start, end):
    return []


def build_demo(cast) -> None:
    calls.append("demo")
    cast.units["plugin"] = "插件单位"


def load_demo(cast) -> None:
    cast.units["plugin"] = "插件单位"


def seed_run(seeding) -> None:
    calls.append("seed:run")
    seeding.teams = [
        (SeedUnit(id=i, name=name, kind="team", path=f"/{i}/", depth=0, team_id=i), [], [])
        for i, name in ((1, "一队"), (2, "二队"))
    ]


def seed_team(seeding) -> None:
    calls.append(f"seed:{seeding.team.name}:{seeding.team_size}")


class PluginConfig(AppConfig):
    name = "tests.core.plugin_app"
    label = "plugin"

    def ready(self):
        registry.capabilities.register(
            Capability("plugin.view", "查看插件记录", {"captain": Reach.SUBTREE})
        )
        registry.register_audit_actions({"plugin.done": "完成插件操作"})
        registry.navigation.register(
            NavEntry(
                "plugin",
                "插件",
                "healthz",
                ("plugin",),
                order=50,
                capabilities=("plugin.view",),
                staff_slot=2,
            )
        )
        registry.api_routers.register(ApiRouter("/plugin-things", router, ("插件",)))
        registry.me_routes.register(MeRoute("/plugin-things", me_router, ("插件",)))
        registry.url_includes.register(UrlInclude("plugin/", "tests.core.plugin_urls"))
        registry.card_providers.register(CardProvider("plugin.card", 10, plugin_cards))
        registry.card_stats.register(CardStats("plugin", "plugin.count", 10, plugin_stats))
        registry.sweep_steps.register(SweepStep("plugin.swept", "插件到期处理", sweep_things))
        registry.clause_checks.register(
            ClauseCheck(
                "5.2.4-one-captain",
                "5.2.4",
                Word.SHALL,
                "每个总队应有且只有一名总队长",
                Period.STANDING,
                one_captain_per_team,
            )
        )
        registry.demo_steps.register(DemoStep("plugin.demo", build_demo, load=load_demo))
        registry.seed_steps.register_all(
            [
                SeedStep("plugin.run", seed_run, label="插件"),
                SeedStep("plugin.team", seed_team, after=("plugin.run",), per_team=True),
            ]
        )
