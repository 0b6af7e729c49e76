"""Navigation entries: the sidebar on a desk and the bottom bar on a phone (ui.md), rendered by
hongfeng.core.context_processors.navigation from what the apps register.

An entry shows when the user holds any of its `capabilities`, or when its `when(user)` says so
(e.g. "has a member file"); an entry with neither always shows. The sidebar lists the shown
entries by `order`. On a phone, a user who holds no role but 队员 gets the volunteer bar (the
entries with a `volunteer_slot`, in slot order); everyone else the staff bar (the entries with a
`staff_slot`, in slot order, at most five: the first four and the last, 我的, always).

Exactly one entry is highlighted: the one whose `pages` claims the current view by name
("members:me"), else the one that claims its URL namespace ("members"); the first claim in
sidebar order wins. An entry marked `personal` (one's own pages) highlights 我的 on the phone
when it has no place in the bar itself.
"""

from collections.abc import Callable
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, RegistryError, Slot, by_order


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str  # Chinese, as shown
    url_name: str  # reversed without arguments: "members:list"
    # The views ("namespace:url_name") or namespaces ("namespace") this entry stands for.
    pages: tuple[str, ...]
    order: int
    capabilities: tuple[str, ...] = ()
    when: Callable[..., bool] | None = None  # when(user) -> bool
    volunteer_slot: int | None = None
    staff_slot: int | None = None
    personal: bool = False
    # A number shown on the entry (unread messages), with what it counts for screen readers.
    badge: Callable[..., int] | None = None  # badge(user) -> int
    badge_label: str = ""


def _check(entry: NavEntry) -> None:
    if not entry.pages:
        raise RegistryError(f"navigation entry {entry.key!r} claims no pages")
    if entry.badge is not None and not entry.badge_label:
        raise RegistryError(f"navigation entry {entry.key!r}: say what its badge counts")


navigation: Registry[NavEntry] = Registry(
    "navigation entries", key=lambda e: e.key, sort=by_order, check=_check
)


@dataclass(frozen=True)
class Viewer:
    """What the navigation needs to know about the signed-in user. Core knows no roles: the
    accounts app provides `viewer_profile(user) -> Viewer`."""

    capabilities: frozenset[str]
    role_labels: tuple[str, ...]  # in the roles' own order, for the sidebar's footer
    volunteer_only: bool  # holds no role but 队员: the volunteer bar on a phone


viewer_profile: Slot[Callable[..., Viewer]] = Slot("the viewer profile (who the user is)")
