"""What the core app plugs into core, registered from CoreConfig.ready(): see
docs/architecture.md, "Adding a domain". Core reads these registries and imports no app."""

from hongfeng.core import registry
from hongfeng.core.registry import NavEntry

# Navigation: sidebar entries and their places in the phone bars.
NAVIGATION = [
    NavEntry("home", "首页", "home", (":home",), order=10, volunteer_slot=1, staff_slot=1),
]


def register() -> None:
    registry.navigation.register_all(NAVIGATION)
