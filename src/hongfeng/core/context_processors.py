"""Navigation: the sidebar (desk) and the bottom bar (phone) for the signed-in user (ui.md),
from the entries the apps register (hongfeng.core.registry.navigation describes the rules).

Only pages that exist and that the user's roles can do something on are listed. Exactly one
entry is highlighted: the one that claims the current view by name ("members:me"), else the one
that claims its app ("members"); the first claim in sidebar order wins (issue 15, 5.4).
"""

from dataclasses import dataclass

from django.urls import reverse

from hongfeng.core import registry
from hongfeng.core.registry import NavEntry, Viewer

BOTTOM_MAX = 5  # ui.md: at most five entries on the phone


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    # The views ("namespace:url_name") or apps ("namespace") this entry stands for.
    pages: tuple[str, ...]
    volunteer_slot: int | None = None
    staff_slot: int | None = None
    personal: bool = False
    badge: int = 0
    badge_label: str = ""


def _shown(entry: NavEntry, user, viewer: Viewer) -> bool:
    if not entry.capabilities and entry.when is None:
        return True
    if any(capability in viewer.capabilities for capability in entry.capabilities):
        return True
    return entry.when is not None and entry.when(user)


def _items(user, viewer: Viewer) -> list[NavItem]:
    """The sidebar, in order: the daily entries first, then one per domain, 我的 last."""
    return [
        NavItem(
            entry.key,
            entry.label,
            reverse(entry.url_name),
            entry.pages,
            entry.volunteer_slot,
            entry.staff_slot,
            entry.personal,
            entry.badge(user) if entry.badge is not None else 0,
            entry.badge_label,
        )
        for entry in registry.navigation
        if _shown(entry, user, viewer)
    ]


def _bottom(items: list[NavItem], volunteer_only: bool) -> list[NavItem]:
    """A volunteer's daily entries; staff get 首页, 活动, 消息, their main desks and always the
    last slot (我的: account, log-out) — at most BOTTOM_MAX, the last one always kept."""
    if volunteer_only:
        slotted = sorted((i for i in items if i.volunteer_slot), key=lambda i: i.volunteer_slot)
    else:
        slotted = sorted((i for i in items if i.staff_slot), key=lambda i: i.staff_slot)
    if len(slotted) > BOTTOM_MAX:
        slotted = [*slotted[: BOTTOM_MAX - 1], slotted[-1]]
    return slotted


def _active(items: list[NavItem], request) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    view = f"{match.namespace}:{match.url_name}"
    for claim in (view, match.namespace):
        for item in items:
            if claim in item.pages:
                return item.key
    return None


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    viewer = registry.viewer_profile.get()(user)
    items = _items(user, viewer)
    bottom = _bottom(items, viewer.volunteer_only)
    active = _active(items, request)
    bottom_active = active
    if bottom and active not in {item.key for item in bottom}:
        # one's own pages without a place of their own highlight the bar's last entry, 我的
        personal = any(item.key == active and item.personal for item in items)
        bottom_active = bottom[-1].key if personal else None
    return {
        "nav_items": items,
        "nav_bottom": bottom,
        "nav_active": active,
        "nav_bottom_active": bottom_active,
        "nav_badges": {item.key: item.badge for item in items if item.badge},
        "nav_roles": list(viewer.role_labels),
        "is_volunteer_only": viewer.volunteer_only,
    }
