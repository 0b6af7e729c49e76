from dataclasses import dataclass

from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.accounts.models import Role
from hongfeng.notices.services import unread_count


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    section: str


_SECTIONS = {
    "orgs": "orgs",
    "audit": "audit",
    "members": "members",
    "roles": "roles",
    "grant": "roles",
    "role_revoke": "roles",
    "accounts": "accounts",
    "account": "accounts",
    "account_action": "accounts",
    "me": "me",
    "password_change": "me",
    "token_revoke": "me",
    "activities": "activities",
    "notices": "inbox",
    "points": "points",
    "honours": "honours",
    "redemption": "points",  # 积分兑换 lives under 积分 on the phone
}
# The phone's bottom bar (ui.md): at most five entries, the volunteer's daily ones first.
_BOTTOM = ("home", "activities", "inbox", "points", "me", "profile", "members")
_BOTTOM_MAX = 5


def has_capability_any(user, capabilities) -> bool:
    return any(access.has_capability(user, c) for c in capabilities)


def navigation(request):
    """The sidebar (desk) and bottom bar (phone) entries this user may use — only pages that
    exist and that the user's roles can do something on."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [NavItem("首页", reverse("home"), "home")]
    if access.has_capability(user, "orgs.view"):
        items.append(NavItem("组织架构", reverse("orgs:tree"), "orgs"))
    if access.has_capability(user, "members.view"):
        items.append(NavItem("队员档案", reverse("members:list"), "members"))
    if access.has_capability(user, "roles.view"):
        items.append(NavItem("角色授权", reverse("accounts:roles"), "roles"))
    if access.has_capability(user, "accounts.manage") or access.has_capability(
        user, "accounts.unlock"
    ):
        items.append(NavItem("账号管理", reverse("accounts:accounts"), "accounts"))
    if has_capability_any(user, ("points.rate", "members.view")):
        items.append(NavItem("排行与星级", reverse("points:ranking"), "points"))
    if hasattr(user, "member"):
        items.append(NavItem("荣誉证书", reverse("honours:mine"), "honours"))
    if access.has_capability(user, "honours.grant"):
        items.append(NavItem("荣誉与警告", reverse("honours:desk"), "honours"))
    elif access.has_capability(user, "violations.decide"):
        items.append(NavItem("警告与退出", reverse("honours:violations"), "honours"))
    if has_capability_any(user, ("redemption.manage", "redemption.hand_over")):
        items.append(NavItem("兑换订单", reverse("redemption:orders"), "points"))
    if access.has_capability(user, "audit.view"):
        items.append(NavItem("安全审计", reverse("audit:events"), "audit"))
    items.append(NavItem("我的", reverse("accounts:me"), "me"))
    has_member = hasattr(user, "member")
    daily = []
    if has_member or access.has_capability(user, "activities.view"):
        daily.append(NavItem("活动", reverse("activities:list"), "activities"))
    daily.append(NavItem("消息", reverse("notices:inbox"), "inbox"))
    if has_member:
        daily.append(NavItem("积分", reverse("points:mine"), "points"))
        daily.append(NavItem("我的档案", reverse("members:me"), "profile"))
    items[1:1] = daily
    unread = unread_count(user)
    roles = sorted({a.role for a in access.assignments(user)}, key=Role.values.index)
    match = getattr(request, "resolver_match", None)
    section = "home"
    if match is not None:
        section = _SECTIONS.get(
            match.url_name if match.namespace == "accounts" else match.namespace, "home"
        )
        if (match.namespace, match.url_name) == ("members", "me"):
            section = "profile"
    volunteer_only = set(roles) <= {Role.VOLUNTEER}
    bottom = [
        item
        for key in _BOTTOM
        for item in items
        if item.section == key and not (key == "members" and volunteer_only)
    ][:_BOTTOM_MAX]
    return {
        "nav_items": items,
        "nav_bottom": bottom,
        "nav_unread": unread,
        "nav_section": section,
        "nav_roles": [Role(r).label for r in roles],
        "is_volunteer_only": volunteer_only,
    }
