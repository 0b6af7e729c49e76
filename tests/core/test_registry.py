"""The registries the apps fill from AppConfig.ready() (hongfeng.core.registry): a duplicate key
is refused, a registration after the first read is refused, entries come back in their order,
and what the apps registered is what the project runs on."""

import re
from contextlib import ExitStack
from dataclasses import dataclass, replace
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import resolve
from ninja import NinjaAPI, Router

from hongfeng.accounts import access
from hongfeng.api import mount_routers
from hongfeng.audit.actions import ACTIONS, action_label
from hongfeng.core import demo, me, registry
from hongfeng.core.context_processors import navigation
from hongfeng.core.dashboard import cards_for
from hongfeng.core.registry import (
    ApiRouter,
    Period,
    Reach,
    Registry,
    RegistryError,
    Slot,
    UrlInclude,
    Viewer,
    Word,
)
from hongfeng.core.registry.base import by_dependencies, by_order
from hongfeng.core.seed import SCALES, Seeder
from tests.core import plugin_app
from tests.core.plugin_app import PluginConfig


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int = 0
    after: tuple[str, ...] = ()


def _registry(sort=list) -> Registry:
    return Registry("test entries", key=lambda e: e.name, sort=sort)


def test_a_duplicate_key_is_refused_and_the_same_entry_again_changes_nothing():
    entries = _registry()
    first = entries.register(_Entry("a", 1))
    assert entries.register(_Entry("a", 1)) is first  # ready() run twice
    with pytest.raises(RegistryError, match="'a' is already registered"):
        entries.register(_Entry("a", 2))
    assert entries.all() == (first,)


def test_the_first_read_freezes_the_registry():
    entries = _registry()
    entries.register(_Entry("a"))
    assert not entries.frozen
    assert "a" in entries
    assert entries.frozen
    with pytest.raises(RegistryError, match="after the registry was read"):
        entries.register(_Entry("b"))
    assert [e.name for e in entries] == ["a"]


def test_entries_by_order_keep_registration_order_between_equals():
    entries = _registry(by_order)
    entries.register_all([_Entry("c", 30), _Entry("a", 10), _Entry("b", 10)])
    assert [e.name for e in entries.all()] == ["a", "b", "c"]


def test_steps_run_after_what_they_name_and_otherwise_in_registration_order():
    entries = _registry(by_dependencies)
    entries.register_all(
        [_Entry("points", after=("honours",)), _Entry("members"), _Entry("honours")]
    )
    assert [e.name for e in entries.all()] == ["members", "honours", "points"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([_Entry("a", after=("missing",))], "which nobody registered"),
        ([_Entry("a", after=("b",)), _Entry("b", after=("a",))], "circular"),
    ],
)
def test_unknown_or_circular_dependencies_are_refused(steps, message):
    entries = _registry(by_dependencies)
    entries.register_all(steps)
    with pytest.raises(RegistryError, match=message):
        entries.all()


def test_scratch_gives_an_empty_open_registry_and_restores_the_real_one():
    real = registry.capabilities.all()
    with registry.capabilities.scratch() as empty:
        assert not empty.frozen and len(empty._entries) == 0
        empty.register(registry.Capability("test.do", "测试", {}))
        assert [c.name for c in empty] == ["test.do"]
    assert registry.capabilities.all() == real


def test_a_slot_is_provided_once():
    slot: Slot = Slot("a hook")
    with pytest.raises(RegistryError, match="nobody provides"):
        slot.get()
    slot.provide(print)
    slot.provide(print)  # the same again: ready() run twice
    with pytest.raises(RegistryError, match="already provided"):
        slot.provide(len)
    assert slot.get() is print


# ---- a new domain plugs into every registry (tests/core/plugin_app.py) ------------------------

REGISTRIES = [
    registry.capabilities,
    registry.audit_actions,
    registry.navigation,
    registry.api_routers,
    registry.me_routes,
    registry.url_includes,
    registry.card_providers,
    registry.card_stats,
    registry.sweep_steps,
    registry.clause_checks,
    registry.demo_steps,
    registry.demo_accounts,
    registry.seed_steps,
]


@pytest.fixture
def plugin():
    """Every registry empty but for what the plugin app registers from its ready()."""
    with ExitStack() as stack:
        for entries in REGISTRIES:
            stack.enter_context(entries.scratch())
        stack.enter_context(registry.viewer_profile.scratch())
        config = PluginConfig("tests.core.plugin_app", plugin_app)
        config.ready()
        config.ready()  # Django runs ready() again when a test swaps INSTALLED_APPS
        plugin_app.calls.clear()
        yield config


def test_a_capability_reaches_the_access_table_and_an_unknown_role_is_refused(plugin):
    table = access._RoleTable()
    assert table["captain"] == {"plugin.view": Reach.SUBTREE}
    assert table["volunteer"] == {}
    with registry.capabilities.scratch() as capabilities:
        capabilities.register(registry.Capability("plugin.x", "测试", {"nobody": Reach.SUBTREE}))
        with pytest.raises(RegistryError, match="no role 'nobody'"):
            access._RoleTable()["captain"]
    with (
        registry.capabilities.scratch() as capabilities,
        pytest.raises(RegistryError, match=r"name it '<app>\.<verb>'"),
    ):
        capabilities.register(registry.Capability("Plugin", "测试", {}))


def test_an_audit_action_is_known_with_its_label(plugin):
    assert "plugin.done" in ACTIONS and ACTIONS["plugin.done"] == "完成插件操作"
    assert "plugin.undone" not in ACTIONS
    assert action_label("plugin.undone") == "plugin.undone"


def _nav_for(capabilities: frozenset):
    registry.viewer_profile.provide(lambda user: Viewer(capabilities, ("总队长",), False))
    request = RequestFactory().get("/healthz")
    request.user = SimpleNamespace(is_authenticated=True)
    request.resolver_match = resolve("/healthz")
    return navigation(request)


def test_a_navigation_entry_shows_to_holders_of_its_capability(plugin):
    nav = _nav_for(frozenset({"plugin.view"}))
    assert [(i.key, i.label, i.url) for i in nav["nav_items"]] == [("plugin", "插件", "/healthz")]
    assert [i.key for i in nav["nav_bottom"]] == ["plugin"]
    assert nav["nav_roles"] == ["总队长"] and nav["nav_active"] is None


def test_a_navigation_entry_hides_from_others(plugin):
    assert _nav_for(frozenset())["nav_items"] == []


def test_api_routers_mount_under_their_prefixes_and_a_path_served_twice_is_refused(plugin):
    target = NinjaAPI(urls_namespace="plugin-test")
    mount_routers(target)
    paths = target.get_openapi_schema(path_prefix="")["paths"]
    assert set(paths) == {"/plugin-things/{thing_id}", "/me/plugin-things"}
    assert me.mounts() == [("/me/plugin-things", plugin_app.me_router, ["插件"])]
    # a second app serving the same path under a longer prefix
    again = Router()
    again.get("")(plugin_app.plugin_thing)
    with registry.api_routers.scratch() as routers, registry.me_routes.scratch():
        routers.register(ApiRouter("/plugin-things", plugin_app.router, ("插件",)))
        routers.register(ApiRouter("/plugin-things/{thing_id}", again, ("插件",)))
        with pytest.raises(RegistryError, match=r"GET /api/v1/plugin-things/\{thing_id\}"):
            mount_routers(NinjaAPI(urls_namespace="plugin-test-2"))


def test_api_prefixes_are_checked(plugin):
    for prefix in ["/me", "/me/things", "things", "/things/"]:
        with pytest.raises(RegistryError):
            registry.api_routers.register(ApiRouter(prefix, Router(), ("插件",)))


def test_page_urls_are_registered_by_prefix(plugin):
    with pytest.raises(RegistryError, match="one segment and a slash"):
        registry.url_includes.register(UrlInclude("plugin", "tests.core.plugin_urls"))
    assert [u.module for u in registry.url_includes] == ["tests.core.plugin_urls"]


def test_home_cards_come_from_providers_with_the_numbers_others_add(plugin):
    (card,) = cards_for(SimpleNamespace())
    assert card.title == "插件"
    assert [(s.label, s.value) for s in card.stats] == [("关于插件单位", 3)]


def test_a_sweep_step_runs_in_hongfeng_sweep(plugin):
    out = StringIO()
    call_command("sweep", stdout=out)
    assert out.getvalue().split() == ["plugin.swept=2"]
    assert plugin_app.calls == ["sweep"]


def test_a_clause_check_names_its_clause_word_and_period(plugin):
    (check,) = registry.clause_checks
    assert (check.clause, check.word, check.period) == ("5.2.4", Word.SHALL, Period.STANDING)
    assert check.check(unit=None, start=None, end=None) == []
    bad = [
        {"word": "必须"},  # 应 or 宜 only
        {"period": "week"},
        {"code": "5.2.5-one-captain"},  # the code starts with its clause
        {"clause": "五.二"},
        {"description": ""},
    ]
    with registry.clause_checks.scratch() as checks:
        for change in bad:
            with pytest.raises(RegistryError):
                checks.register(replace(check, **change))


@pytest.mark.django_db
def test_demo_steps_build_and_load_the_cast(plugin):
    cast = demo.build()
    assert plugin_app.calls == ["demo"] and cast.units == {"plugin": "插件单位"}
    assert demo.load().units == {"plugin": "插件单位"}
    assert demo.is_empty()  # no step here says its data exists


def test_seed_steps_run_once_then_per_team_in_order(plugin):
    seeder = Seeder("small", 1, write=lambda _line: None)
    seeder.generate()
    members = SCALES["small"].members // 2
    assert plugin_app.calls == ["seed:run", f"seed:一队:{members}", f"seed:二队:{members}"]


def test_core_imports_no_domain_app():
    """The registries exist so that core never needs to: the apps fill them."""
    core = Path(registry.__file__).parent.parent
    domains = [
        cfg.name
        for cfg in apps.get_app_configs()
        if cfg.name.startswith("hongfeng.") and cfg.name != "hongfeng.core"
    ]
    pattern = re.compile(rf"^\s*(from|import) ({'|'.join(map(re.escape, domains))})\b", re.M)
    found = [
        f"{path.relative_to(core)}: {match.group(0).strip()}"
        for path in core.rglob("*.py")
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found
