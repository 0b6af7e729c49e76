"""The HTTP API: error format, OpenAPI, pagination, bad input, audit of every write (T1, T5)."""

import pytest

from hongfeng.accounts.models import RoleAssignment, User
from hongfeng.audit.models import AuditEvent
from hongfeng.orgs.models import Unit
from tests.conftest import ApiClient
from tests.test_honours import HONOURS_WRITES
from tests.test_redemption import REDEMPTION_WRITES


class TestErrors:
    def test_malformed_json_changes_nothing(self, cast, api_as):
        api = api_as("county_admin")
        before = Unit.objects.count()
        response = api.client.post("/api/v1/units", "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"code": "malformed_json", "message": "请求体不是合法的 JSON。"}
        assert Unit.objects.count() == before

    def test_validation_error_names_the_field(self, cast, api_as):
        response = api_as("county_admin").post(
            "/units", {"parent_id": 1, "kind": "castle", "name": "x"}
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_input"
        assert body["field"] == "kind"
        assert "kind" in body["message"]

    @pytest.mark.parametrize(
        "path", ["/units/999999", "/units/0", "/role-assignments/424242", "/accounts/999999"]
    )
    def test_unknown_ids_are_404(self, cast, api_as, path):
        response = api_as("system_admin").get(path)
        assert response.status_code in (404, 422)
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"

    def test_non_numeric_id(self, cast, api_as):
        response = api_as("system_admin").get("/units/abc")
        assert response.status_code in (404, 422)

    def test_unauthenticated(self, anon_api):
        response = anon_api.get("/units")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    def test_stale_version_is_409(self, cast, api_as):
        squad = cast.units["hongfeng_squad1"]
        api = api_as("captain")
        assert api.patch(f"/units/{squad.pk}", {"name": "新一队", "version": 1}).status_code == 200
        response = api.patch(f"/units/{squad.pk}", {"name": "又一队", "version": 1})
        assert response.status_code == 409
        assert response.json()["code"] == "stale_version"
        assert Unit.objects.get(pk=squad.pk).name == "新一队"

    def test_move_under_own_descendant(self, cast, api_as):
        api = api_as("province_admin")
        city = cast.units["shaoxing"]
        response = api.post(
            f"/units/{city.pk}/move", {"parent_id": cast.units["zhuji"].pk, "version": city.version}
        )
        assert response.status_code == 400
        assert Unit.objects.get(pk=city.pk).parent == cast.units["province"]

    def test_duplicate_mobile_new_account(self, cast, api_as):
        """Granting to a registered mobile reuses the account; it never creates a second."""
        before = User.objects.count()
        response = api_as("captain").post(
            "/role-assignments",
            {
                "mobile": "13900000033",
                "name": "冒名",
                "role": "volunteer",
                "unit_id": cast.units["hongfeng_group2"].pk,
            },
        )
        assert response.status_code == 201
        assert response.json()["account_created"] is False
        assert User.objects.count() == before

    def test_combining_three_powers_via_api(self, cast, api_as):
        """Three-powers roles are never granted over the API, and their holders never get a
        business role."""
        api = api_as("security_admin")
        response = api.post(
            "/role-assignments",
            {"user_id": cast.users["auditor"].pk, "role": "system_admin", "unit_id": None},
        )
        assert response.status_code == 422  # no platform-wide grants over the API at all
        response = api.post(
            "/role-assignments",
            {
                "user_id": cast.users["auditor"].pk,
                "role": "system_admin",
                "unit_id": cast.units["province"].pk,
            },
        )
        assert response.status_code == 403
        response = api.post(
            "/role-assignments",
            {
                "user_id": cast.users["auditor"].pk,
                "role": "volunteer",
                "unit_id": cast.units["hongfeng"].pk,
            },
        )
        assert response.status_code == 409
        assert response.json()["code"] == "three_powers_conflict"

    def test_grant_outside_scope(self, cast, api_as):
        before = RoleAssignment.objects.count()
        response = api_as("captain").post(
            "/role-assignments",
            {
                "mobile": "13612345678",
                "name": "越权",
                "role": "volunteer",
                "unit_id": cast.units["xihu_team"].pk,
            },
        )
        assert response.status_code == 404
        assert RoleAssignment.objects.count() == before
        assert not User.objects.filter(mobile="13612345678").exists()


class TestDocs:
    def test_openapi_and_docs(self, client, db):
        schema = client.get("/api/v1/openapi.json")
        assert schema.status_code == 200
        paths = schema.json()["paths"]
        for path in (
            "/api/v1/auth/token",
            "/api/v1/units",
            "/api/v1/role-assignments",
            "/api/v1/audit-events",
            "/api/v1/teams/onboard",
        ):
            assert path in paths
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200
        assert b"swagger" in docs.content.lower()


class TestLists:
    def test_units_are_paginated_with_bounded_queries(
        self, cast, api_as, django_assert_max_num_queries
    ):
        api = api_as("system_admin")
        with django_assert_max_num_queries(6):
            first = api.get("/units", {"page_size": 10})
        body = first.json()
        assert body["count"] == Unit.objects.count()
        assert len(body["items"]) == 10
        second = api.get("/units", {"page_size": 10, "page": 2}).json()
        assert not {u["id"] for u in body["items"]} & {u["id"] for u in second["items"]}

    def test_role_assignments_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("security_admin")
        with django_assert_max_num_queries(6):
            response = api.get("/role-assignments", {"page_size": 100})
        assert response.json()["count"] == RoleAssignment.objects.active().count()

    def test_filters(self, cast, api_as):
        api = api_as("county_admin")
        teams = api.get("/units", {"kind": "team"}).json()["items"]
        assert sorted(t["name"] for t in teams) == ["暨阳义警总队", "红枫义警总队"]
        hongfeng = next(t for t in teams if t["name"] == "红枫义警总队")
        assert hongfeng["guiding_station"]["name"] == "枫桥派出所"
        assert hongfeng["children_count"] == 3
        found = api.get("/units", {"q": "先锋"}).json()["items"]
        assert [u["kind_label"] for u in found] == ["党员先锋岗"]

    def test_me(self, cast, api_as):
        body = api_as("station_officer").get("/me").json()
        assert body["mobile"] == "13900000021"
        assert [r["role"] for r in body["roles"]] == ["station_officer"]
        assert "orgs.view" in body["capabilities"]


class TestOnboardApi:
    def test_onboard(self, cast, api_as):
        response = api_as("county_admin").post(
            "/teams/onboard",
            {
                "county_id": cast.units["zhuji"].pk,
                "name": "浣江义警总队",
                "guiding_station_id": cast.units["jiyang_station"].pk,
                "squads": [{"name": "一分队", "groups": [{"name": "一组"}, {"name": "二组"}]}],
                "special_groups": [{"name": "党员先锋岗", "special_tag": "party_vanguard"}],
            },
        )
        assert response.status_code == 201, response.json()
        assert response.json()["units_created"] == 5

    def test_onboard_bad_station(self, cast, api_as):
        before = Unit.objects.count()
        response = api_as("county_admin").post(
            "/teams/onboard",
            {
                "county_id": cast.units["zhuji"].pk,
                "name": "浣江义警总队",
                "guiding_station_id": cast.units["zhuji_bureau"].pk,
                "squads": [],
            },
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_station"
        assert Unit.objects.count() == before


def _writes(cast):
    """One call of every write endpoint, each expected to succeed, with its actor."""
    squad = cast.units["hongfeng_squad2"]
    group = cast.units["hongfeng_group4"]
    volunteer = RoleAssignment.objects.get(user=cast.users["volunteer"])
    return [
        (
            "county_admin",
            "post",
            "/units",
            {"parent_id": cast.units["hongfeng"].pk, "kind": "squad", "name": "第三分队"},
        ),
        ("captain", "patch", f"/units/{squad.pk}", {"name": "二队", "version": squad.version}),
        (
            "captain",
            "post",
            f"/units/{group.pk}/move",
            {"parent_id": cast.units["hongfeng_squad1"].pk, "version": group.version},
        ),
        ("captain", "post", f"/units/{cast.units['hongfeng_group2'].pk}/archive", {"version": 1}),
        (
            "county_admin",
            "post",
            "/teams/onboard",
            {
                "county_id": cast.units["zhuji"].pk,
                "name": "新总队",
                "guiding_station_id": cast.units["fengqiao"].pk,
                "squads": [],
            },
        ),
        (
            "captain",
            "post",
            "/role-assignments",
            {
                "mobile": "13612349999",
                "name": "新队员",
                "role": "volunteer",
                "unit_id": cast.units["hongfeng"].pk,
            },
        ),
        ("captain", "post", f"/role-assignments/{volunteer.pk}/revoke", {"reason": "调离"}),
        (
            "system_admin",
            "post",
            f"/accounts/{cast.users['group_leader'].pk}/disable",
            {"reason": "测试"},
        ),
        ("system_admin", "post", f"/accounts/{cast.users['squad_leader'].pk}/reset-password", None),
        ("auditor", "post", "/audit-events/verify", None),
        # audited whatever the number (here one with a password: nothing is sent)
        (None, "post", "/auth/activation-code", {"mobile": "13900000033"}),
        (
            "outsider",
            "post",
            "/me/password",
            {"old_password": "Hongfeng@2026", "new_password": "Other#Pass2026"},
        ),
        *_member_writes(cast),
    ]


def _member_writes(cast):
    from hongfeng.members.models import Application, Member

    pending = list(Application.objects.filter(status="applied").order_by("id")[:2])

    zhangsan = Member.objects.get(name="张三")
    newcomer = Member.objects.filter(status="probation").first()
    veteran = Member.objects.filter(status="core").exclude(user=cast.users["captain"]).first()
    return [
        (
            "captain",
            "post",
            "/members",
            {
                "unit_id": cast.units["hongfeng_group3"].pk,
                "name": "李四",
                "id_number": "11010519491231002X",
                "mobile": "13612340001",
                "consent": True,
            },
        ),
        (
            "captain",
            "patch",
            f"/members/{zhangsan.pk}",
            {"version": zhangsan.version, "address": "枫桥镇", "skills": ["first_aid"]},
        ),
        (
            "captain",
            "post",
            f"/members/{zhangsan.pk}/status",
            {"status": "core", "reason": "表现突出"},
        ),
        ("captain", "post", f"/members/{newcomer.pk}/partner", {"partner_id": veteran.pk}),
        (
            "county_admin",
            "post",
            "/points-rules",
            {
                "association_id": cast.units["zhuji"].pk,
                "per_hour": "12",
                "difficulty": {"normal": 1, "harder": 1.2, "hard": 1.5, "high_risk": 2},
                "quality": {"excellent": 1.2, "good": 1, "pass": 0.8, "fail": 0},
            },
        ),
        (
            "captain",
            "post",
            f"/members/{newcomer.pk}/pre-job-training",
            {"completed_on": "2026-11-01"},
        ),
        (
            "captain",
            "post",
            f"/members/{zhangsan.pk}/reveal",
            {"field": "id_number", "reason": "核对保险信息"},
        ),
        (
            "volunteer",
            "patch",
            "/members/me/contact",
            {"address": "枫桥镇1号", "emergency_contact": "张母", "emergency_mobile": ""},
        ),
        ("captain", "post", f"/applications/{pending[0].pk}/approve", {}),
        ("captain", "post", f"/applications/{pending[1].pk}/reject", {"reason": "名额已满"}),
        (
            "captain",
            "post",
            f"/teams/{cast.units['hongfeng'].pk}/charter",
            {
                "joining_conditions": "a",
                "rights_and_duties": "b",
                "exit_rules": "c",
                "code_of_conduct": "d",
            },
        ),
        (
            None,
            "post",
            "/applications",
            {
                "team_id": cast.units["keqiao_team"].pk,
                "name": "周六",
                "id_number": "110105194912310038",
                "mobile": "13612340002",
                "password": "Apply#Pass2026",
                "charter_version": 1,
                "charter_accepted": True,
                "privacy_accepted": True,
            },
        ),
    ]


def test_every_write_endpoint_leaves_an_audit_row(cast, api_as):
    """T5: each successful write adds audit events carrying its request id."""
    for who, method, path, data in _writes(cast):
        api = api_as(who) if who else ApiClient()
        before = AuditEvent.objects.count()
        call = getattr(api, method)
        response = call(path, data) if data is not None else call(path)
        assert response.status_code in (200, 201, 202, 204), (path, response.content[:300])
        request_id = response["X-Request-ID"]
        assert AuditEvent.objects.count() > before, path
        assert AuditEvent.objects.filter(request_id=request_id).exists(), path


def test_write_endpoints_are_all_covered(cast):
    """Guard for T5: a new write endpoint must be added to `_writes` above."""
    from hongfeng.api import api

    writes = {
        f"{method} {path}"
        for path, ops in api.get_openapi_schema()["paths"].items()
        for method in ops
        if method in ("post", "patch", "put", "delete")
    }
    covered = {
        "post /api/v1/units",
        "patch /api/v1/units/{unit_id}",
        "post /api/v1/units/{unit_id}/move",
        "post /api/v1/units/{unit_id}/archive",
        "post /api/v1/units/{unit_id}/restore",
        "post /api/v1/teams/onboard",
        "post /api/v1/role-assignments",
        "post /api/v1/role-assignments/{assignment_id}/revoke",
        "post /api/v1/accounts/{user_id}/disable",
        "post /api/v1/accounts/{user_id}/enable",
        "post /api/v1/accounts/{user_id}/reset-password",
        "post /api/v1/accounts/{user_id}/unlock",
        "post /api/v1/audit-events/verify",
        "post /api/v1/me/password",
        "post /api/v1/auth/token",
        "delete /api/v1/auth/token",
        "post /api/v1/auth/activation-code",
        # needs the code from the text message: tests/test_account_activation.py checks its
        # audit events (account.activated, account.activation_failed)
        "post /api/v1/auth/activate",
        "post /api/v1/members",
        "patch /api/v1/members/{member_id}",
        "post /api/v1/members/{member_id}/status",
        "post /api/v1/members/{member_id}/partner",
        "post /api/v1/members/{member_id}/reveal",
        "patch /api/v1/members/me/contact",
        "post /api/v1/applications",
        "post /api/v1/teams/{team_id}/charter",
        "post /api/v1/applications/{application_id}/approve",
        "post /api/v1/applications/{application_id}/reject",
        "post /api/v1/roster-imports",
        "post /api/v1/members/{member_id}/move",
        "post /api/v1/members/{member_id}/photo",
        "post /api/v1/roster-imports/{import_id}/confirm",
        "post /api/v1/members/{member_id}/pre-job-training",
        "post /api/v1/points-rules",
        "post /api/v1/star-ratings",
        "post /api/v1/star-ratings/{run_id}/publish",
        *ACTIVITY_WRITES,
        *HONOURS_WRITES,
        *REDEMPTION_WRITES,
    }
    assert writes == covered


# Covered by test_every_activity_write_leaves_an_audit_row below (a scenario: they depend on
# each other's state).
ACTIVITY_WRITES = {
    "post /api/v1/activities",
    "put /api/v1/activities/{activity_id}",
    "post /api/v1/activities/{activity_id}/publish",
    "post /api/v1/activities/{activity_id}/cancel",
    "post /api/v1/activities/{activity_id}/finish",
    "post /api/v1/activities/{activity_id}/signup",
    "post /api/v1/activities/{activity_id}/signup/cancel",
    "post /api/v1/activities/{activity_id}/decline",
    "post /api/v1/activities/{activity_id}/checkins",
    "post /api/v1/checkins/sync",
    "post /api/v1/activities/{activity_id}/checkins/manual",
    "post /api/v1/checkins/{checkin_id}/review",
    "put /api/v1/activities/{activity_id}/ratings",
    "post /api/v1/activities/{activity_id}/evaluate",
    "post /api/v1/activities/{activity_id}/hours/corrections",
    "post /api/v1/attendance-notices",
    "post /api/v1/me/inbox/{notice_id}/read",
    "post /api/v1/me/inbox/read-all",
    "put /api/v1/activity-risk-defaults/{association_id}/{kind}",
}


def test_every_activity_write_leaves_an_audit_row(cast, api_as):
    """T5 for the activity endpoints, as one organiser-and-volunteers scenario."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from hongfeng.activities import services as activity_services
    from hongfeng.activities.models import Activity, CheckIn
    from hongfeng.members.models import Member
    from hongfeng.notices.models import Notice

    seen = set()

    def call(who, method, path, data=None, template=None):
        api = api_as(who) if isinstance(who, str) else ApiClient(who)
        before = AuditEvent.objects.count()
        fn = getattr(api, method)
        response = fn(path, data) if data is not None else fn(path)
        assert response.status_code in (200, 201), (path, response.content[:300])
        assert AuditEvent.objects.count() > before, path
        assert AuditEvent.objects.filter(request_id=response["X-Request-ID"]).exists(), path
        seen.add(f"{method} /api/v1{template or path}")
        return response.json()

    now = timezone.now()
    lat, lon = 29.6263, 120.3176
    body = {
        "kind": "patrol",
        "title": "审计巡逻",
        "unit_id": cast.units["hongfeng"].pk,
        "place": "枫桥",
        "latitude": lat,
        "longitude": lon,
        "starts_at": (now - timedelta(minutes=10)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "capacity": 5,
    }
    aid = call("captain", "post", "/activities", body)["id"]
    call(
        "captain", "put", f"/activities/{aid}", {**body, "capacity": 6}, "/activities/{activity_id}"
    )
    call("captain", "post", f"/activities/{aid}/publish", None, "/activities/{activity_id}/publish")
    activity = Activity.objects.get(pk=aid)
    users = [m.user for m in activity_services.eligible_members(activity).order_by("pk")[:3]]
    volunteer, other, third = users
    t = "/activities/{activity_id}"
    call(volunteer, "post", f"/activities/{aid}/signup", None, t + "/signup")
    call(other, "post", f"/activities/{aid}/signup", None, t + "/signup")
    call(third, "post", f"/activities/{aid}/decline", None, t + "/decline")
    checkin = call(
        volunteer,
        "post",
        f"/activities/{aid}/checkins",
        {
            "kind": "in",
            "client_id": str(uuid.uuid4()),
            "latitude": lat + 0.0035,  # ~390 m: outside the 300 m fence
            "longitude": lon,
            "allow_review": True,
        },
        t + "/checkins",
    )
    sync = {
        "sent_at": timezone.now().isoformat(),
        "items": [
            {
                "activity_id": aid,
                "kind": "out",
                "client_id": str(uuid.uuid4()),
                "device_time": timezone.now().isoformat(),
                "latitude": lat,
                "longitude": lon,
            }
        ],
    }
    assert call(volunteer, "post", "/checkins/sync", sync)[0]["created"]
    member_id = Member.objects.get(user=other).pk
    for kind in ("in", "out"):
        call(
            "captain",
            "post",
            f"/activities/{aid}/checkins/manual",
            {"member_id": member_id, "kind": kind, "reason": "手机没电"},
            t + "/checkins/manual",
        )
    call(
        "captain",
        "post",
        f"/checkins/{checkin['id']}/review",
        {"decision": "accepted", "reason": "民警确认在场"},
        "/checkins/{checkin_id}/review",
    )
    call("captain", "post", f"/activities/{aid}/finish", None, t + "/finish")
    assert not CheckIn.objects.filter(activity_id=aid, flagged=True, reviews__isnull=True).exists()
    own = Member.objects.get(user=volunteer).pk
    ratings = {"ratings": [{"member_id": own, "quality": "good"}]}
    call("captain", "put", f"/activities/{aid}/ratings", ratings, t + "/ratings")
    call(
        "captain",
        "post",
        f"/activities/{aid}/evaluate",
        {"effect": "good", "summary": "完成"},
        t + "/evaluate",
    )
    call(
        "captain",
        "post",
        f"/activities/{aid}/hours/corrections",
        {"member_id": own, "hours": "0.1", "reason": "核对"},
        t + "/hours/corrections",
    )
    second = call(
        "captain",
        "post",
        "/activities",
        {
            **body,
            "starts_at": (now + timedelta(days=1)).isoformat(),
            "ends_at": (now + timedelta(days=1, hours=2)).isoformat(),
        },
    )
    call("captain", "post", f"/activities/{second['id']}/publish", None, t + "/publish")
    call(volunteer, "post", f"/activities/{second['id']}/signup", None, t + "/signup")
    call(volunteer, "post", f"/activities/{second['id']}/signup/cancel", None, t + "/signup/cancel")
    call("captain", "post", f"/activities/{second['id']}/cancel", {"reason": "改期"}, t + "/cancel")
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    call(
        "captain",
        "post",
        "/attendance-notices",
        {"team_id": cast.units["hongfeng"].pk, "month": month},
    )
    notice = Notice.objects.filter(recipient=cast.users["volunteer"], channel="inbox").first()
    call("volunteer", "post", f"/me/inbox/{notice.pk}/read", None, "/me/inbox/{notice_id}/read")
    call("volunteer", "post", "/me/inbox/read-all")
    call(
        "county_admin",
        "put",
        f"/activity-risk-defaults/{cast.units['zhuji'].pk}/patrol",
        {"text": "夜间巡逻两人一组，穿反光背心。"},
        "/activity-risk-defaults/{association_id}/{kind}",
    )
    assert seen == ACTIVITY_WRITES


def test_restore_enable_unlock_audited(cast, api_as):
    group = cast.units["hongfeng_group2"]
    api = api_as("captain")
    api.post(f"/units/{group.pk}/archive", {"version": group.version})
    response = api.post(f"/units/{group.pk}/restore", {"version": group.version + 1})
    assert response.status_code == 200, response.json()
    sysadmin = api_as("system_admin")
    leader = cast.users["group_leader"]
    sysadmin.post(f"/accounts/{leader.pk}/disable", {"reason": "暂停"})
    assert sysadmin.post(f"/accounts/{leader.pk}/enable").status_code == 200
    from hongfeng.accounts.login import authenticate_mobile

    for _ in range(5):
        with pytest.raises(Exception):  # noqa: B017 — any refusal will do here
            authenticate_mobile(mobile=leader.mobile, password="bad")
    response = api_as("security_admin").post(f"/accounts/{leader.pk}/unlock")
    assert response.status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"unit.restored", "account.enabled", "auth.unlocked"} <= actions


class TestHostileInput:
    """Values that would crash a database driver are refused at the edge (fuzzing and review
    findings): NUL characters and ids beyond any integer column."""

    @pytest.mark.parametrize(
        "path",
        [
            "/units?q=%00",
            "/units?parent_id=99999999999999999999",
            "/role-assignments?unit_id=-1",
            "/units/99999999999999999999",
            "/audit-events?actor=a%00b",
        ],
    )
    def test_bad_query_values(self, cast, api_as, path):
        response = api_as("auditor").get(path)
        assert response.status_code in (400, 404, 422), response.content
        assert response.json()["code"] in ("bad_request", "invalid_input", "not_found")

    def test_nul_in_json_body(self, cast, api_as):
        before = Unit.objects.count()
        response = api_as("captain").post(
            "/units", {"parent_id": cast.units["hongfeng"].pk, "kind": "squad", "name": "a\x00b"}
        )
        assert response.status_code == 422
        assert Unit.objects.count() == before

    @pytest.mark.parametrize("path", ["/orgs/units/?q=%00", "/roles/?q=a%00"])
    def test_nul_in_page_queries(self, cast, page_as, path):
        assert page_as("county_admin").get(path).status_code == 400
