"""Every write leaves its audit trail (target T5): each write endpoint of the API, called once
as someone allowed to, adds audit events carrying the request's id — and a guard fails when an
endpoint is added without a call here (or in the app's own list: HONOURS_WRITES,
REDEMPTION_WRITES)."""

import pytest

from hongfeng.accounts.models import RoleAssignment
from hongfeng.audit.models import AuditEvent
from tests.conftest import ApiClient
from tests.honours.test_honours import HONOURS_WRITES
from tests.redemption.test_redemption import REDEMPTION_WRITES


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
        # needs the code from the text message: tests/accounts/test_activation.py checks its
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
