"""What core itself plugs in (called from CoreConfig.ready()): the home page's entry."""

from hongfeng.core import registry
from hongfeng.core.registry import NavEntry

NAVIGATION = [
    NavEntry("home", "首页", "home", (":home",), order=10, volunteer_slot=1, staff_slot=1),
]


def register() -> None:
    registry.navigation.register_all(NAVIGATION)
