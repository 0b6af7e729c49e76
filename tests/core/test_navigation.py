"""The navigation built from the apps' registered entries (core.context_processors) is exactly
the navigation every demo role had when it was written by hand in one function: the same
sidebar entries in the same order, the same phone bar, the same highlighted entry."""

import pytest
from django.test import RequestFactory
from django.urls import resolve

from hongfeng.core.context_processors import navigation
from hongfeng.core.demo import ACCOUNTS

ENTRIES = {
    "home": ("首页", "/"),
    "activities": ("活动", "/activities/"),
    "inbox": ("消息", "/inbox/"),
    "points": ("积分", "/points/"),
    "profile": ("我的档案", "/members/me/"),
    "orgs": ("组织架构", "/orgs/"),
    "members": ("队员档案", "/members/"),
    "roles": ("角色授权", "/roles/"),
    "accounts": ("账号管理", "/accounts/"),
    "ranking": ("排行与星级", "/points/ranking/"),
    "honours_mine": ("荣誉证书", "/honours/"),
    "honours": ("荣誉与警告", "/honours/desk/"),
    "redemption": ("兑换订单", "/redemption/manage/orders/"),
    "audit": ("安全审计", "/audit/"),
    "me": ("我的", "/me/"),
}
ADMIN = "home activities inbox orgs members roles ranking honours redemption me"
LEADER = "home activities inbox points profile orgs members roles ranking honours_mine me"
STAFF_BAR = "home activities inbox members me"
# account → (sidebar, phone bar)
EXPECTED = {
    "system_admin": ("home inbox orgs roles accounts me", "home inbox accounts roles me"),
    "security_admin": ("home inbox orgs roles accounts me", "home inbox accounts roles me"),
    "auditor": ("home inbox orgs audit me", "home inbox audit orgs me"),
    "province_admin": (ADMIN, STAFF_BAR),
    "city_admin": (ADMIN, STAFF_BAR),
    "county_admin": (ADMIN, STAFF_BAR),
    "bureau_officer": ("home activities inbox orgs members roles ranking me", STAFF_BAR),
    "station_officer": ("home activities inbox orgs members roles ranking me", STAFF_BAR),
    "captain": (
        "home activities inbox points profile orgs members roles ranking honours_mine honours "
        "redemption me",
        STAFF_BAR,
    ),
    "squad_leader": (LEADER, STAFF_BAR),
    "group_leader": (LEADER, STAFF_BAR),
    "volunteer": (
        "home activities inbox points profile orgs honours_mine me",
        "home activities inbox points me",
    ),
    "outsider": (ADMIN, STAFF_BAR),
    "outside_captain": (ADMIN, STAFF_BAR),
    "sibling_captain": (ADMIN, STAFF_BAR),
}
# path → (highlighted in the sidebar, highlighted in the phone bar)
HIGHLIGHTED = {
    "volunteer": {
        "/": ("home", "home"),
        "/activities/": ("activities", "activities"),
        "/inbox/": ("inbox", "inbox"),
        "/points/": ("points", "points"),
        "/points/ranking/": ("points", "points"),
        "/redemption/": ("points", "points"),
        "/redemption/orders/": ("points", "points"),
        "/members/me/": ("profile", "me"),
        "/honours/": ("honours_mine", "me"),
        "/orgs/": ("orgs", None),
        "/roles/": ("me", "me"),
        "/me/": ("me", "me"),
        "/audit/": (None, None),
    },
    "captain": {
        "/points/": ("points", "me"),
        "/points/ranking/": ("ranking", None),
        "/redemption/": ("points", "me"),
        "/members/": ("members", "members"),
        "/members/me/": ("profile", "me"),
        "/honours/": ("honours_mine", "me"),
        "/honours/desk/": ("honours", None),
        "/orgs/": ("orgs", None),
        "/roles/": ("roles", None),
    },
    "county_admin": {
        "/points/": ("ranking", None),
        "/redemption/": ("redemption", None),
        "/members/me/": ("members", "members"),
        "/honours/desk/": ("honours", None),
    },
    "auditor": {"/audit/": ("audit", "audit"), "/orgs/": ("orgs", "orgs"), "/roles/": ("me", "me")},
}


def _nav(user, path):
    request = RequestFactory().get(path)
    request.user = user
    request.resolver_match = resolve(path)
    return navigation(request)


def test_every_demo_account_is_pinned():
    assert set(EXPECTED) == {a.key for a in ACCOUNTS}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_the_navigation_of_every_role_is_unchanged(cast, key):
    sidebar, bar = EXPECTED[key]
    nav = _nav(cast.users[key], "/")
    assert [(i.key, i.label, i.url) for i in nav["nav_items"]] == [
        (k, *ENTRIES[k]) for k in sidebar.split()
    ]
    assert [i.key for i in nav["nav_bottom"]] == bar.split()
    assert nav["is_volunteer_only"] is (key == "volunteer")


@pytest.mark.parametrize("key", sorted(HIGHLIGHTED))
def test_the_highlighted_entry_is_unchanged(cast, key):
    for path, expected in HIGHLIGHTED[key].items():
        nav = _nav(cast.users[key], path)
        assert (nav["nav_active"], nav["nav_bottom_active"]) == expected, path
