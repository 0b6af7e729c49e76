"""Target T2: every role × every unit endpoint × {own, sibling, ancestor, unrelated, …}.

The expectations below are written out by hand from the role table in the foundation issue and
requirements.md — not computed by the access helper they check. Out of scope answers 404
(indistinguishable from "does not exist"); in scope but not allowed answers 403.
"""

import pytest

from hongfeng.orgs.models import Unit, UnitKind

# For each cast member: which unit plays which part relative to their own assignment.
TARGETS = {
    "province_admin": {
        "own": "province",
        "child": "shaoxing",
        "deep": "hongfeng_group1",
        "unrelated": "province_bureau",
        "station": "fengqiao",
    },
    "city_admin": {
        "own": "shaoxing",
        "child": "zhuji",
        "sibling": "hangzhou",
        "ancestor": "province",
        "unrelated": "xihu_team",
    },
    "county_admin": {
        "own": "zhuji",
        "child": "hongfeng",
        "deep": "hongfeng_group1",
        "sibling": "keqiao",
        "ancestor": "shaoxing",
        "unrelated": "xihu",
        "station": "fengqiao",
    },
    "outsider": {
        "own": "xihu",
        "child": "xihu_team",
        "unrelated": "zhuji",
        "unrelated_team": "hongfeng",
    },
    "bureau_officer": {
        "own": "zhuji_bureau",
        "child": "fengqiao",
        "sibling": "keqiao_bureau",
        "ancestor": "shaoxing_bureau",
        "unrelated": "xihu_bureau",
        "guided": "hongfeng",
        "guided_deep": "hongfeng_group1",
        "unguided": "keqiao_team",
        "association": "zhuji",
    },
    "station_officer": {
        "own": "fengqiao",
        "sibling": "jiyang_station",
        "ancestor": "zhuji_bureau",
        "unrelated": "beishan",
        "guided": "hongfeng",
        "guided_deep": "hongfeng_squad1",
        "unguided": "jiyang_team",
        "association": "zhuji",
    },
    "captain": {
        "own": "hongfeng",
        "child": "hongfeng_squad1",
        "deep": "hongfeng_group1",
        "sibling": "jiyang_team",
        "ancestor": "zhuji",
        "unrelated": "xihu_team",
        "station": "fengqiao",
    },
    "squad_leader": {
        "own": "hongfeng_squad1",
        "child": "hongfeng_group1",
        "sibling": "hongfeng_squad2",
        "ancestor": "hongfeng",
        "unrelated": "xihu_team_squad1",
    },
    "group_leader": {
        "own": "hongfeng_group1",
        "sibling": "hongfeng_group2",
        "ancestor": "hongfeng_squad1",
        "unrelated": "xihu_team_group1",
    },
    "volunteer": {
        "own": "hongfeng_group1",
        "sibling": "hongfeng_group2",
        "ancestor": "hongfeng_squad1",
        "team": "hongfeng",
        "county": "zhuji",
        "unrelated": "xihu_team_group1",
        "station": "fengqiao",
    },
    "system_admin": {"root": "province", "deep": "hongfeng_group1", "station": "fengqiao"},
    "security_admin": {"root": "province", "deep": "hongfeng_group1"},
    "auditor": {"root": "province", "deep": "hongfeng_group1"},
}

# Which parts each member may read (GET), change (rename/archive) and add children to.
VIEW = {
    "province_admin": {"own", "child", "deep"},
    "city_admin": {"own", "child"},
    "county_admin": {"own", "child", "deep"},
    "outsider": {"own", "child"},
    "bureau_officer": {"own", "child", "guided", "guided_deep"},
    "station_officer": {"own", "guided", "guided_deep"},
    "captain": {"own", "child", "deep"},
    "squad_leader": {"own", "child"},
    "group_leader": {"own"},
    "volunteer": {"own", "ancestor", "team"},
    "system_admin": {"root", "deep", "station"},
    "security_admin": {"root", "deep"},
    "auditor": {"root", "deep"},
}
MANAGE = {
    "province_admin": {"child", "deep"},
    "city_admin": {"child"},
    "county_admin": {"child", "deep"},
    "outsider": {"child"},
    "bureau_officer": {"child"},
    "captain": {"child", "deep"},
    "squad_leader": {"child"},
    "system_admin": {"root", "deep", "station"},
}
ADD_CHILD = {
    "province_admin": {"own", "child", "deep"},
    "city_admin": {"own", "child"},
    "county_admin": {"own", "child", "deep"},
    "outsider": {"own", "child"},
    "bureau_officer": {"own", "child"},
    "captain": {"own", "child", "deep"},
    "squad_leader": {"own", "child"},
    "system_admin": {"root", "deep", "station"},
}

CASES = [(who, part) for who, parts in TARGETS.items() for part in parts]
# The targets that are groups or stations: no kind of unit may be created under them, so they
# have no create-child case (test_leaves_are_the_groups_and_stations holds this list true).
LEAVES = {
    "hongfeng_group1",
    "hongfeng_group2",
    "xihu_team_group1",
    "fengqiao",
    "jiyang_station",
    "beishan",
}
PARENT_CASES = [(who, part) for who, part in CASES if TARGETS[who][part] not in LEAVES]
CHILD_KIND = {
    UnitKind.PROVINCE_ASSOCIATION: UnitKind.CITY_ASSOCIATION,
    UnitKind.CITY_ASSOCIATION: UnitKind.COUNTY_ASSOCIATION,
    UnitKind.COUNTY_ASSOCIATION: UnitKind.COUNTY_ASSOCIATION,  # replaced below: needs a station
    UnitKind.TEAM: UnitKind.SQUAD,
    UnitKind.SQUAD: UnitKind.GROUP,
    UnitKind.PROVINCE_BUREAU: UnitKind.CITY_BUREAU,
    UnitKind.CITY_BUREAU: UnitKind.COUNTY_BUREAU,
    UnitKind.COUNTY_BUREAU: UnitKind.STATION,
}


def _expect(allowed: bool, visible: bool) -> int:
    if allowed:
        return 200
    return 403 if visible else 404


@pytest.mark.parametrize(("who", "part"), CASES)
def test_read(cast, api_as, who, part):
    unit = cast.units[TARGETS[who][part]]
    api = api_as(who)
    visible = part in VIEW[who]
    assert api.get(f"/units/{unit.pk}").status_code == (200 if visible else 404)
    guided = api.get(f"/units/{unit.pk}/guided-teams")
    assert guided.status_code == (200 if visible else 404)


@pytest.mark.parametrize(("who", "part"), CASES)
def test_rename(cast, api_as, who, part):
    unit = cast.units[TARGETS[who][part]]
    visible = part in VIEW[who]
    response = api_as(who).patch(f"/units/{unit.pk}", {"name": "改名测试", "version": unit.version})
    assert response.status_code == _expect(part in MANAGE.get(who, ()), visible), response.json()
    renamed = Unit.objects.get(pk=unit.pk).name == "改名测试"
    assert renamed == (response.status_code == 200)


@pytest.mark.parametrize(("who", "part"), CASES)
def test_archive(cast, api_as, who, part):
    unit = cast.units[TARGETS[who][part]]
    visible = part in VIEW[who]
    response = api_as(who).post(f"/units/{unit.pk}/archive", {"version": unit.version})
    allowed = part in MANAGE.get(who, ())
    if allowed and unit.kind == UnitKind.STATION:
        # permitted, but refused on its merits: the station still guides a team
        assert response.status_code == 400
        assert response.json()["code"] == "station_in_use"
        return
    assert response.status_code == _expect(allowed, visible), response.json()
    assert Unit.objects.get(pk=unit.pk).is_archived == (response.status_code == 200)


def test_leaves_are_the_groups_and_stations(cast):
    """LEAVES, written out by hand, names exactly the targets under which no unit may be
    created — so the create-child cases below leave out no real one."""
    keys = {key for parts in TARGETS.values() for key in parts.values()}
    leaves = {k for k in keys if cast.units[k].kind in (UnitKind.GROUP, UnitKind.STATION)}
    assert leaves == LEAVES


@pytest.mark.parametrize(("who", "part"), PARENT_CASES)
def test_create_child(cast, api_as, who, part):
    parent = cast.units[TARGETS[who][part]]
    payload = {"parent_id": parent.pk, "kind": CHILD_KIND[parent.kind], "name": "矩阵新单位"}
    if parent.kind == UnitKind.COUNTY_ASSOCIATION:
        payload.update(kind=UnitKind.TEAM, guiding_station_id=cast.units["fengqiao"].pk)
    before = Unit.objects.count()
    response = api_as(who).post("/units", payload)
    expected = _expect(part in ADD_CHILD.get(who, ()), part in VIEW[who])
    assert response.status_code == (201 if expected == 200 else expected), response.json()
    assert Unit.objects.count() == before + (1 if response.status_code == 201 else 0)


@pytest.mark.parametrize(("who", "part"), CASES)
def test_audit_by_unit(cast, api_as, who, part):
    unit = cast.units[TARGETS[who][part]]
    response = api_as(who).get("/audit-events", {"unit_id": unit.pk})
    if who != "auditor":
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(("who", "part"), CASES)
def test_grant(cast, api_as, who, part):
    """Grant the role that fits the unit; allowed only where the grant rules say so."""
    unit = cast.units[TARGETS[who][part]]
    role = {
        UnitKind.TEAM: "volunteer",
        UnitKind.SQUAD: "volunteer",
        UnitKind.GROUP: "volunteer",
        UnitKind.STATION: "station_officer",
    }.get(unit.kind, "association_admin" if unit.is_association else "bureau_officer")
    response = api_as(who).post(
        "/role-assignments",
        {"mobile": "13612340000", "name": "矩阵测试", "role": role, "unit_id": unit.pk},
    )
    grants = {
        "province_admin": {"child", "deep"},
        "city_admin": {"child"},
        "county_admin": {"child", "deep"},
        "outsider": {"child"},
        "bureau_officer": {"child"},
        "captain": {"own", "child", "deep"},
        "squad_leader": {"own", "child"},
        "security_admin": {"root", "deep"},
    }
    expected = _expect(part in grants.get(who, ()), part in VIEW[who])
    assert response.status_code == (201 if expected == 200 else expected), response.json()


def _subtree_keys(cast, top_key):
    """Keys of the units under `top_key`, by walking parent links (not paths)."""
    by_id = {u.pk: u for u in Unit.objects.all()}
    top = cast.units[top_key].pk

    def under(unit):
        while unit is not None:
            if unit.pk == top:
                return True
            unit = by_id.get(unit.parent_id)
        return False

    return {u.pk for u in by_id.values() if under(u)}


@pytest.mark.parametrize(
    ("who", "tops"),
    [
        ("county_admin", ["zhuji"]),
        ("outsider", ["xihu"]),
        ("captain", ["hongfeng"]),
        ("squad_leader", ["hongfeng_squad1"]),
        ("station_officer", ["fengqiao", "hongfeng"]),
        ("bureau_officer", ["zhuji_bureau", "hongfeng", "jiyang_team"]),
        ("province_admin", ["province"]),
        ("auditor", ["province", "province_bureau"]),
    ],
)
def test_list_holds_exactly_the_reach(cast, api_as, who, tops):
    expected = set().union(*(_subtree_keys(cast, t) for t in tops))
    response = api_as(who).get("/units", {"page_size": 200})
    assert {u["id"] for u in response.json()["items"]} == expected


def test_volunteer_list_is_their_chain(cast, api_as):
    response = api_as("volunteer").get("/units")
    assert {u["name"] for u in response.json()["items"]} == {"红枫义警总队", "第一分队", "第一小组"}


@pytest.mark.parametrize("who", ["county_admin", "captain", "station_officer", "squad_leader"])
def test_role_assignments_stay_in_scope(cast, api_as, who):
    """Every assignment listed lies in units the caller can see."""
    api = api_as(who)
    visible = {u["id"] for u in api.get("/units", {"page_size": 200}).json()["items"]}
    items = api.get("/role-assignments", {"page_size": 200}).json()["items"]
    assert items
    assert all(item["unit"] and item["unit"]["id"] in visible for item in items)


def test_platform_grants_are_hidden_from_scoped_viewers(cast, api_as):
    items = api_as("province_admin").get("/role-assignments", {"page_size": 200}).json()["items"]
    assert all(item["unit"] is not None for item in items)
    platform = api_as("security_admin").get("/role-assignments", {"page_size": 200}).json()
    assert any(item["unit"] is None for item in platform["items"])


# Accounts and assignments: (who, whose account / assignment, expected status).
ACCOUNT_CASES = [
    ("county_admin", "captain", 200),
    ("county_admin", "outside_captain", 404),
    ("outsider", "captain", 404),
    ("captain", "volunteer", 200),
    ("captain", "sibling_captain", 404),
    ("station_officer", "captain", 404),  # stations guide teams, they do not manage accounts
    ("volunteer", "captain", 404),
    ("system_admin", "captain", 200),
    ("security_admin", "captain", 200),
    ("auditor", "captain", 404),
]


@pytest.mark.parametrize(("who", "whom", "status"), ACCOUNT_CASES)
def test_account_detail(cast, api_as, who, whom, status):
    response = api_as(who).get(f"/accounts/{cast.users[whom].pk}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["mobile_masked"].count("*") == 4


@pytest.mark.parametrize(
    ("who", "whom", "status"),
    [
        ("system_admin", "captain", 200),
        ("system_admin", "security_admin", 403),  # never takes over another of the three powers
        ("system_admin", "auditor", 403),
        ("security_admin", "captain", 403),  # sees the account, but does not manage accounts
        ("county_admin", "captain", 403),
        ("outsider", "captain", 404),
        ("captain", "volunteer", 403),
    ],
)
def test_account_disable(cast, api_as, who, whom, status):
    from hongfeng.accounts.models import User

    response = api_as(who).post(f"/accounts/{cast.users[whom].pk}/disable", {"reason": "矩阵"})
    assert response.status_code == status
    assert User.objects.get(pk=cast.users[whom].pk).is_active == (status != 200)


@pytest.mark.parametrize(
    ("who", "holder", "read", "revoke"),
    [
        ("captain", "volunteer", 200, 200),
        ("squad_leader", "volunteer", 200, 200),
        ("group_leader", "volunteer", 200, 403),
        ("volunteer", "volunteer", 404, 404),
        ("station_officer", "volunteer", 200, 403),
        ("outside_captain", "volunteer", 404, 404),
        ("county_admin", "captain", 200, 200),
        ("captain", "captain", 200, 403),  # nobody revokes their own role at their own unit
        ("auditor", "captain", 404, 404),
        ("security_admin", "captain", 200, 200),
    ],
)
def test_assignment_read_and_revoke(cast, api_as, who, holder, read, revoke):
    from hongfeng.accounts.models import RoleAssignment

    assignment = RoleAssignment.objects.get(user=cast.users[holder])
    api = api_as(who)
    assert api.get(f"/role-assignments/{assignment.pk}").status_code == read
    response = api.post(f"/role-assignments/{assignment.pk}/revoke", {"reason": "矩阵"})
    assert response.status_code == revoke
    assignment.refresh_from_db()
    assert assignment.is_active == (revoke != 200)


def test_child_counts_never_reveal_hidden_units(cast, api_as):
    """A 队员 sees their squad and group; the counts must not hint at the sibling group or the
    special group they cannot open."""
    items = {u["name"]: u for u in api_as("volunteer").get("/units").json()["items"]}
    assert items["红枫义警总队"]["children_count"] == 1
    assert items["第一分队"]["children_count"] == 1
    captain_view = {u["name"]: u for u in api_as("captain").get("/units").json()["items"]}
    assert captain_view["红枫义警总队"]["children_count"] == 3


def test_system_admin_cannot_reset_the_security_admin(cast, api_as):
    response = api_as("system_admin").post(
        f"/accounts/{cast.users['security_admin'].pk}/reset-password"
    )
    assert response.status_code == 403


def test_scoped_admin_cannot_manage_an_account_with_a_wider_role(cast):
    """A county's 系统管理员 manages the county's captain — until the captain also holds a
    role in another city."""
    from hongfeng.accounts import access
    from hongfeng.accounts.models import Role, RoleAssignment, User

    county_sysadmin = User.objects.create_user(mobile="13512340001", name="县系统管理员")
    RoleAssignment.objects.create(
        user=county_sysadmin, role=Role.SYSTEM_ADMIN, unit=cast.units["zhuji"]
    )
    captain = cast.users["captain"]
    assert access.can_manage_account(county_sysadmin, captain)
    RoleAssignment.objects.create(user=captain, role=Role.VOLUNTEER, unit=cast.units["xihu_team"])
    assert not access.can_manage_account(county_sysadmin, captain)


@pytest.mark.parametrize(
    ("q", "found"), [("0033", True), ("13900000033", True), ("900000033", False), ("00033", False)]
)
def test_mobile_search_cannot_unmask(cast, api_as, q, found):
    names = [a["name"] for a in api_as("captain").get("/accounts", {"q": q}).json()["items"]]
    assert ("张三" in names) == found


@pytest.mark.parametrize(
    ("who", "county", "status"),
    [
        ("county_admin", "zhuji", 201),
        ("city_admin", "zhuji", 201),
        ("province_admin", "xihu", 201),
        ("system_admin", "zhuji", 201),
        ("outsider", "zhuji", 404),
        ("captain", "zhuji", 404),
        ("station_officer", "zhuji", 404),
        ("bureau_officer", "zhuji", 404),
        ("security_admin", "zhuji", 403),
        ("auditor", "zhuji", 403),
        ("volunteer", "zhuji", 404),
    ],
)
def test_onboard(cast, api_as, who, county, status):
    before = Unit.objects.count()
    response = api_as(who).post(
        "/teams/onboard",
        {
            "county_id": cast.units[county].pk,
            "name": "矩阵入驻总队",
            "guiding_station_id": cast.units["fengqiao"].pk,
            "squads": [{"name": "一分队", "groups": [{"name": "一组"}]}],
        },
    )
    assert response.status_code == status, response.json()
    assert Unit.objects.count() == before + (3 if status == 201 else 0)


def test_station_directory(cast, api_as, anon_api):
    """A public directory of names for everyone signed in with a role; nothing else."""
    # the four of the tower plus 百官派出所 of the rating demo's 上虞 county
    assert api_as("volunteer").get("/stations").json()["count"] == 5
    assert anon_api.get("/stations").status_code == 401


# ---- activities (issue 4) -------------------------------------------------------------------
# Which parts each member may publish an activity from (5.2.3: associations, bureaus and
# stations for the teams they guide, teams and squads). A group may not publish on its own:
# permitted roles get 400 invalid_publisher there.
PUBLISH = {
    "province_admin": {"own", "child", "deep"},
    "city_admin": {"own", "child"},
    "county_admin": {"own", "child", "deep"},
    "outsider": {"own", "child"},
    "bureau_officer": {"own", "child", "guided", "guided_deep"},
    "station_officer": {"own", "guided", "guided_deep"},
    "captain": {"own", "child", "deep"},
    "squad_leader": {"own", "child"},
}


@pytest.mark.parametrize(("who", "part"), CASES)
def test_activity_create(cast, api_as, who, part):
    from datetime import timedelta

    from django.utils import timezone

    from hongfeng.activities.models import Activity

    unit = cast.units[TARGETS[who][part]]
    starts = timezone.now() + timedelta(days=3)
    before = Activity.objects.count()
    response = api_as(who).post(
        "/activities",
        {
            "kind": "patrol",
            "title": "矩阵活动",
            "unit_id": unit.pk,
            "place": "枫桥",
            "latitude": 29.6,
            "longitude": 120.3,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "capacity": 5,
        },
    )
    allowed = part in PUBLISH.get(who, ())
    if allowed and unit.kind == UnitKind.GROUP:
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_publisher"
    else:
        expected = _expect(allowed, part in VIEW[who])
        assert response.status_code == (201 if expected == 200 else expected), response.json()
    assert Activity.objects.count() == before + (response.status_code == 201)


# The demo's team patrol (published by the captain for the whole 红枫义警总队): who sees it, and
# who runs it. Team members see it through their own units; leaders through their reach.
SEES_TEAM_ACTIVITY = {
    "province_admin",
    "city_admin",
    "county_admin",
    "bureau_officer",
    "station_officer",
    "captain",
    "squad_leader",
    "group_leader",
    "volunteer",
}
RUNS_TEAM_ACTIVITY = {
    "province_admin",
    "city_admin",
    "county_admin",
    "bureau_officer",
    "station_officer",
    "captain",
}


@pytest.mark.parametrize("who", [*sorted(TARGETS), "sibling_captain", "outside_captain"])
def test_activity_read_and_run(cast, api_as, who):
    from hongfeng.activities.demo import CURRENT_PATROL
    from hongfeng.activities.models import Activity

    activity = Activity.objects.get(title__in=CURRENT_PATROL)
    api = api_as(who)
    sees = who in SEES_TEAM_ACTIVITY
    assert api.get(f"/activities/{activity.pk}").status_code == (200 if sees else 404)
    listed = {a["id"] for a in api.get("/activities", {"page_size": 200}).json()["items"]}
    assert (activity.pk in listed) == sees
    runs = _expect(who in RUNS_TEAM_ACTIVITY, sees)
    for path in ("counts", "participants", "checkins", "qr"):
        assert api.get(f"/activities/{activity.pk}/{path}").status_code == runs, path
    cancel = api.post(f"/activities/{activity.pk}/cancel", {"reason": "矩阵"})
    assert cancel.status_code == runs
    assert Activity.objects.get(pk=activity.pk).status == (
        "cancelled" if runs == 200 else "in_progress"
    )
