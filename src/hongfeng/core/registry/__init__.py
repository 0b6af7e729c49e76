"""Registries that the domain apps fill from their `AppConfig.ready()`, so that adding a domain
edits no central file (docs/architecture.md, "Adding a domain"). Core reads them and imports no
domain app.

| registry | filled with | read by |
|---|---|---|
| `capabilities` | `Capability`: name, label, reach per role | hongfeng.accounts.access |
| `audit_actions` | `AuditAction`: code → label | hongfeng.audit |
| `navigation` | `NavEntry`: sidebar and phone bars | core.context_processors |
| `viewer_profile` | one function: who the user is | core.context_processors |
| `card_providers`, `card_stats` | home cards and numbers on them | core.dashboard |
| `api_routers`, `me_routes` | django-ninja routers per prefix | hongfeng.api, core.me |
| `url_includes` | page URL modules per prefix | hongfeng.urls |
| `sweep_steps` | `SweepStep`: named idempotent steps | `hongfeng sweep` |
| `clause_checks` | `ClauseCheck`: the standard's 应/宜 checks | the conformance engine |
| `demo_steps`, `demo_accounts`, `seed_steps` | demo and seed data | core.demo, core.seed |
"""

from hongfeng.core.registry.api import ApiRouter, MeRoute, api_routers, me_routes
from hongfeng.core.registry.audit import AuditAction, audit_actions, register_audit_actions
from hongfeng.core.registry.base import Registry, RegistryError, Slot
from hongfeng.core.registry.capabilities import Capability, Reach, capabilities
from hongfeng.core.registry.clauses import ClauseCheck, Period, Word, clause_checks
from hongfeng.core.registry.dashboard import CardProvider, CardStats, card_providers, card_stats
from hongfeng.core.registry.demo import (
    DemoAccount,
    DemoStep,
    SeedStep,
    demo_accounts,
    demo_steps,
    seed_steps,
)
from hongfeng.core.registry.navigation import NavEntry, Viewer, navigation, viewer_profile
from hongfeng.core.registry.sweep import SweepStep, sweep_steps
from hongfeng.core.registry.urls import UrlInclude, url_includes

__all__ = [
    "ApiRouter",
    "AuditAction",
    "Capability",
    "CardProvider",
    "CardStats",
    "ClauseCheck",
    "DemoAccount",
    "DemoStep",
    "MeRoute",
    "NavEntry",
    "Period",
    "Reach",
    "Registry",
    "RegistryError",
    "SeedStep",
    "Slot",
    "SweepStep",
    "UrlInclude",
    "Viewer",
    "Word",
    "api_routers",
    "audit_actions",
    "capabilities",
    "card_providers",
    "card_stats",
    "clause_checks",
    "demo_accounts",
    "demo_steps",
    "me_routes",
    "navigation",
    "register_audit_actions",
    "seed_steps",
    "sweep_steps",
    "url_includes",
    "viewer_profile",
]
