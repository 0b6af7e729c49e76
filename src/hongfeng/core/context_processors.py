"""Navigation: the sidebar (desk) and the bottom bar (phone) for the signed-in user (ui.md).

Only pages that exist and that the user's roles can do something on are listed. Exactly one
entry is highlighted: the one that claims the current view by name ("members:me"), else the one
that claims its app ("members"); the first claim in sidebar order wins (issue 15, 5.4).
"""

from dataclasses import dataclass

from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.accounts.models import Role
from hongfeng.notices.services import unread_count


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    # The views ("namespace:url_name") or apps ("namespace") this entry stands for.
    pages: tuple[str, ...]


BOTTOM_MAX = 5  # ui.md: at most five entries on the phone
# What a volunteer does every day: the whole bottom bar of a volunteer (ui.md).
_VOLUNTEER_BOTTOM = ("home", "activities", "inbox", "points", "me")
# One's own pages: reached through 我的 on the phone, which is highlighted on them.
_PERSONAL = {"points", "profile", "honours_mine", "me"}
# Staff on a phone: the daily entries, then the desks they use most (in this order), then 我的.
_STAFF_DAILY = ("home", "activities", "inbox")
_STAFF_DESKS = ("members", "accounts", "audit", "roles", "orgs")


def _can(user, *capabilities: str) -> bool:
    return any(access.has_capability(user, c) for c in capabilities)


def _items(user) -> list[NavItem]:
    """The sidebar, in order: the daily entries first, then one per domain, 我的 last."""
    member = hasattr(user, "member")
    entries = [("home", "首页", "home", (":home",))]
    if member or _can(user, "activities.view"):
        entries.append(("activities", "活动", "activities:list", ("activities",)))
    entries.append(("inbox", "消息", "notices:inbox", ("notices",)))
    if member:
        redemption = ("redemption:catalogue", "redemption:mine", "redemption:order")
        entries.append(("points", "积分", "points:mine", ("points", *redemption)))
        entries.append(("profile", "我的档案", "members:me", ("members:me",)))
    if _can(user, "orgs.view"):
        entries.append(("orgs", "组织架构", "orgs:tree", ("orgs",)))
    if _can(user, "members.view"):
        entries.append(("members", "队员档案", "members:list", ("members",)))
    if _can(user, "roles.view"):
        roles = ("accounts:roles", "accounts:grant", "accounts:role_revoke")
        entries.append(("roles", "角色授权", "accounts:roles", roles))
    if _can(user, "accounts.manage", "accounts.unlock"):
        accounts = ("accounts:accounts", "accounts:account", "accounts:account_action")
        entries.append(("accounts", "账号管理", "accounts:accounts", accounts))
    if _can(user, "points.rate", "members.view"):
        entries.append(("ranking", "排行与星级", "points:ranking", ("points:ranking", "points")))
    if member:
        entries.append(("honours_mine", "荣誉证书", "honours:mine", ("honours:mine",)))
    if _can(user, "honours.grant"):
        entries.append(("honours", "荣誉与警告", "honours:desk", ("honours",)))
    elif _can(user, "violations.decide"):
        entries.append(("honours", "警告与退出", "honours:violations", ("honours",)))
    if _can(user, "redemption.manage", "redemption.hand_over"):
        entries.append(("redemption", "兑换订单", "redemption:orders", ("redemption",)))
    if _can(user, "audit.view"):
        entries.append(("audit", "安全审计", "audit:events", ("audit",)))
    entries.append(("me", "我的", "accounts:me", ("accounts",)))
    return [NavItem(key, label, reverse(name), pages) for key, label, name, pages in entries]


def _bottom(items: list[NavItem], volunteer_only: bool) -> list[NavItem]:
    """A volunteer's five daily entries; staff get 首页, 活动, 消息, their main desks and
    always 我的 (account, log-out) last."""
    by_key = {item.key: item for item in items}
    if volunteer_only:
        return [by_key[key] for key in _VOLUNTEER_BOTTOM if key in by_key]
    head = [by_key[key] for key in (*_STAFF_DAILY, *_STAFF_DESKS) if key in by_key]
    return [*head[: BOTTOM_MAX - 1], by_key["me"]]


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
    roles = sorted({a.role for a in access.assignments(user)}, key=Role.values.index)
    volunteer_only = set(roles) <= {Role.VOLUNTEER}
    items = _items(user)
    bottom = _bottom(items, volunteer_only)
    active = _active(items, request)
    bottom_active = active
    if active not in {item.key for item in bottom}:
        bottom_active = "me" if active in _PERSONAL else None
    return {
        "nav_items": items,
        "nav_bottom": bottom,
        "nav_active": active,
        "nav_bottom_active": bottom_active,
        "nav_unread": unread_count(user),
        "nav_roles": [Role(r).label for r in roles],
        "is_volunteer_only": volunteer_only,
    }
