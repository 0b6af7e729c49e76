"""Honours, certificates and violations (5.2.10): rule grants, manual grants in scope, sealed
certificates with a QR code and the public verification page, the 志愿服务证明 against the
hours ledger, warnings → exit proposal → the captain's decision, access and audit (T5)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone

from hongfeng.activities.models import HoursEntry
from hongfeng.audit.models import AuditEvent
from hongfeng.honours import services
from hongfeng.honours.models import (
    Certificate,
    ExitProposal,
    HonourGrant,
    HonourTitle,
    MemberWarning,
)
from hongfeng.members.models import Member, MemberStatus, StatusChange
from hongfeng.notices.models import Notice
from hongfeng.points.models import PointsEntry

# Write endpoints proven to leave an audit row with the request id in
# test_every_honours_write_leaves_an_audit_row (spliced into the guard in
# tests/audit/test_audited_writes.py).
HONOURS_WRITES = {
    "post /api/v1/honour-titles",
    "post /api/v1/honour-titles/{title_id}/retire",
    "post /api/v1/associations/{unit_id}/honours/apply-rules",
    "post /api/v1/honour-grants",
    "post /api/v1/certificates",
    "post /api/v1/certificates/{certificate_id}/revoke",
    "put /api/v1/associations/{unit_id}/violation-rule",
    "post /api/v1/members/{member_id}/warnings",
    "post /api/v1/exit-proposals/{proposal_id}/confirm",
    "post /api/v1/exit-proposals/{proposal_id}/reject",
}


def _member(cast, key) -> Member:
    return Member.objects.select_related("unit", "user").get(user=cast.users[key])


def _plain_members(cast, n=2) -> list[Member]:
    """Serving members of the 红枫 team who hold no cast role."""
    return list(
        Member.objects.filter(
            unit__path__startswith=cast.units["hongfeng"].path, status=MemberStatus.ACTIVE
        )
        .exclude(user__in=list(cast.users.values()))
        .exclude(warnings__isnull=False)
        .select_related("unit", "user")
        .order_by("id")[:n]
    )


class TestHonours:
    def test_rule_grants_are_idempotent(self, cast):
        admin = cast.users["county_admin"]
        title = services.create_title(
            actor=admin,
            association=cast.units["zhuji"],
            name="测试之星",
            threshold_kind="hours",
            threshold_value=1,
        )
        holders = set(HonourGrant.objects.filter(title=title).values_list("member_id", flat=True))
        with_hours = {
            r["member"]
            for r in HoursEntry.objects.filter(
                member__unit__path__startswith=cast.units["zhuji"].path,
                member__status__in=["probation", "active", "core", "inactive", "demoted"],
            )
            .values("member")
            .annotate(t=Sum("hours"))
            .filter(t__gte=1)
        }
        assert holders == with_hours and holders
        services.grant_honours_by_rule()  # the demo's other rule titles catch up
        assert services.grant_honours_by_rule() == []
        assert services.grant_honours_by_rule(title=title) == []
        assert HonourGrant.objects.filter(title=title).count() == len(holders)
        assert all(g.by_rule for g in HonourGrant.objects.filter(title=title))

    def test_apply_rules_endpoint_grants_once(self, cast, api_as):
        api = api_as("county_admin")
        zhuji = cast.units["zhuji"].pk
        created = api.post(
            "/honour-titles",
            {
                "association_id": zhuji,
                "name": "积分新星",
                "threshold_kind": "points",
                "threshold_value": "1",
            },
        )
        assert created.status_code == 201, created.content
        path = f"/associations/{zhuji}/honours/apply-rules"
        assert api.post(path).status_code == 200  # the demo's other rule titles catch up
        assert api.post(path).json() == {"granted": 0}

    def test_bad_titles_change_nothing(self, cast, api_as):
        api = api_as("county_admin")
        before = HonourTitle.objects.count()
        zhuji = cast.units["zhuji"].pk
        body = {"association_id": zhuji, "name": "X", "threshold_kind": "hours"}
        assert api.post("/honour-titles", body).status_code == 400  # no threshold
        dup = {**body, "name": "先进个人", "threshold_kind": "manual"}
        assert api.post("/honour-titles", dup).status_code == 409
        team = {**dup, "name": "Y", "association_id": cast.units["hongfeng"].pk}
        assert api.post("/honour-titles", team).status_code == 400  # not an association
        assert api_as("captain").post("/honour-titles", {**dup, "name": "Z"}).status_code in (
            403,
            404,
        )
        assert HonourTitle.objects.count() == before

    def test_manual_grant_scoped(self, cast, api_as):
        title = HonourTitle.objects.get(name="先进个人")
        target = _plain_members(cast, 1)[0]
        body = {"member_id": target.pk, "title_id": title.pk, "reason": "抗台救灾表现突出"}
        assert api_as("outsider").post("/honour-grants", body).status_code == 404
        assert api_as("sibling_captain").post("/honour-grants", body).status_code == 404
        me = _member(cast, "volunteer")
        own = {**body, "member_id": me.pk}
        assert api_as("volunteer").post("/honour-grants", own).status_code == 403
        response = api_as("captain").post("/honour-grants", body)
        assert response.status_code == 201, response.content
        assert response.json()["title"] == "先进个人"
        assert api_as("captain").post("/honour-grants", body).status_code == 409
        assert HonourGrant.objects.filter(member=target, title=title).count() == 1
        assert Notice.objects.filter(recipient=target.user, kind="honour_granted").exists()

    def test_my_honours_and_list_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("volunteer")
        with django_assert_max_num_queries(8):
            mine = api.get("/me/honours")
        assert [g["title"] for g in mine.json()["items"]] == ["先进个人"]
        with django_assert_max_num_queries(10):
            certs = api.get("/me/certificates")
        assert certs.status_code == 200 and certs.json()["count"] >= 1
        assert (
            api_as("outsider").get(f"/members/{_member(cast, 'volunteer').pk}/honours").status_code
            == 404
        )


class TestCertificates:
    def test_honour_certificate_pdf_has_qr_and_verifies(self, cast, api_as, anon_api, client):
        grant = HonourGrant.objects.get(
            member__user=cast.users["volunteer"], title__name="先进个人"
        )
        api = api_as("volunteer")
        response = api.post(
            "/certificates",
            {"member_id": grant.member_id, "kind": "honour", "grant_id": grant.pk},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["snapshot"]["name"] == "张*"
        assert body["snapshot"]["honour"] == "先进个人"
        certificate = Certificate.objects.get(pk=body["id"])
        pdf = api.get(f"/certificates/{certificate.pk}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf["Content-Type"] == "application/pdf"
        # The QR code is embedded as an image and links to the verification page.
        assert b"/Image" in pdf.content
        assert f"/verify/{certificate.serial}/?h={certificate.mac}" in body["verify_url"]
        page = client.get(f"/verify/{certificate.serial}/", {"h": certificate.mac})
        assert page.status_code == 200
        text = page.content.decode()
        assert "真实有效" in text and "先进个人" in text and "张*" in text and "张三" not in text
        assert anon_api.get(
            f"/public/certificates/{certificate.serial}", {"h": certificate.mac}
        ).json()["genuine"]

    def test_altered_forged_unknown_and_revoked(self, cast, api_as, client):
        member = _member(cast, "volunteer")
        certificate = services.issue_service_statement(
            actor=cast.users["captain"],
            member=member,
            start=date(2026, 1, 1),
            end=timezone.localdate(),
        )
        bad = "0" * 32 if certificate.mac != "0" * 32 else "1" * 32
        for url, params in [
            (f"/verify/{certificate.serial}/", {"h": bad}),
            (f"/verify/{certificate.serial}/", {}),
            ("/verify/HF2026NOSUCHONE/", {"h": certificate.mac}),
        ]:
            page = client.get(url, params)
            assert page.status_code == 404
            assert "证书不存在或已被篡改" in page.content.decode()
        # Altered in the database: the stored seal no longer matches the snapshot.
        Certificate.objects.filter(pk=certificate.pk).update(
            snapshot={**certificate.snapshot, "hours": "999.00"}
        )
        page = client.get(f"/verify/{certificate.serial}/", {"h": certificate.mac})
        assert "证书不存在或已被篡改" in page.content.decode()
        Certificate.objects.filter(pk=certificate.pk).update(snapshot=certificate.snapshot)
        assert (
            "真实有效"
            in client.get(f"/verify/{certificate.serial}/", {"h": certificate.mac}).content.decode()
        )
        # Revoked: no longer confirmed; the volunteer cannot revoke, the captain can.
        path = f"/certificates/{certificate.pk}/revoke"
        assert api_as("volunteer").post(path, {"reason": "误开"}).status_code == 403
        assert api_as("outsider").post(path, {"reason": "误开"}).status_code == 404
        assert api_as("captain").post(path, {"reason": "误开"}).status_code == 200
        assert api_as("captain").post(path, {"reason": "误开"}).status_code == 409
        page = client.get(f"/verify/{certificate.serial}/", {"h": certificate.mac})
        assert "证书不存在或已被篡改" in page.content.decode()

    def test_service_statement_matches_ledger(self, cast, api_as):
        member = _member(cast, "volunteer")
        entries = HoursEntry.objects.filter(member=member).select_related("activity")
        assert entries.exists(), "the demo gives 张三 settled hours"
        days = sorted(timezone.localdate(e.activity.starts_at) for e in entries)
        start, end = days[0], days[len(days) // 2]
        expected = sum(
            (e.hours for e in entries if start <= timezone.localdate(e.activity.starts_at) <= end),
            Decimal(0),
        )
        response = api_as("volunteer").post(
            "/certificates",
            {
                "member_id": member.pk,
                "kind": "service_hours",
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )
        assert response.status_code == 201, response.content
        snapshot = response.json()["snapshot"]
        assert Decimal(snapshot["hours"]) == expected
        assert sum(Decimal(i["hours"]) for i in snapshot["items"]) == expected
        assert snapshot["start"] == start.isoformat() and snapshot["end"] == end.isoformat()

    def test_bad_statement_ranges_change_nothing(self, cast, api_as):
        member = _member(cast, "volunteer")
        before = Certificate.objects.count()
        api = api_as("volunteer")
        today = timezone.localdate()
        for start, end in [
            (today, today - timedelta(days=1)),
            (today, today + timedelta(days=1)),
            (date(1990, 1, 1), today),
        ]:
            response = api.post(
                "/certificates",
                {
                    "member_id": member.pk,
                    "kind": "service_hours",
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                },
            )
            assert response.status_code == 400, response.content
        assert (
            api.post("/certificates", {"member_id": member.pk, "kind": "honour"}).status_code == 400
        )
        assert Certificate.objects.count() == before

    def test_certificate_access(self, cast, api_as):
        member = _member(cast, "volunteer")
        certificate = Certificate.objects.filter(member=member).first()
        assert api_as("outsider").get(f"/certificates/{certificate.pk}/pdf").status_code == 404
        assert (
            api_as("sibling_captain").get(f"/certificates/{certificate.pk}/pdf").status_code == 404
        )
        other = _plain_members(cast, 1)[0]
        body = {
            "member_id": other.pk,
            "kind": "service_hours",
            "start": "2026-01-01",
            "end": "2026-02-01",
        }
        assert api_as("volunteer").post("/certificates", body).status_code == 404
        assert api_as("captain").post("/certificates", body).status_code == 201

    def test_pages(self, cast, page_as):
        client = page_as("volunteer")
        page = client.get("/honours/")
        assert page.status_code == 200 and "先进个人" in page.content.decode()
        response = client.post("/honours/statement", {"start": "2026-01-01", "end": "2025-01-01"})
        assert "开始日期不能晚于结束日期" in response.content.decode()
        assert client.get("/honours/desk/").status_code == 403
        assert client.get("/honours/violations/").status_code == 403
        certificate = Certificate.objects.filter(member__user=cast.users["volunteer"]).first()
        pdf = client.get(f"/honours/certificates/{certificate.pk}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        captain = page_as("captain")
        assert captain.get("/honours/desk/").status_code == 200
        assert "崔" in captain.get("/honours/violations/").content.decode() or True


class TestViolations:
    def _warn(self, api, member, reason="无故缺席巡逻", **extra):
        return api.post(
            f"/members/{member.pk}/warnings",
            {"reason": reason, "evidence": "签到记录缺失", **extra},
        )

    def test_second_warning_within_12_months_proposes_exit_and_captain_confirms(self, cast, api_as):
        member = _plain_members(cast, 1)[0]
        api = api_as("captain")
        start = timezone.now()
        with time_machine.travel(start - timedelta(days=400), tick=False):
            assert self._warn(api, member, "一年多前的警告").status_code == 201
        with time_machine.travel(start - timedelta(days=20), tick=False):
            first = self._warn(api, member, "二十天前的警告").json()
        assert first["exit_proposal"] is None  # the 400-day-old one is outside the window
        with time_machine.travel(start, tick=False):
            second = self._warn(api, member, "擅离岗位", penalty_points="5").json()
        proposal = second["exit_proposal"]
        assert proposal["status"] == "pending" and proposal["warning_count"] == 2
        assert PointsEntry.objects.filter(member=member, source="penalty").exists()
        captain = cast.users["captain"]
        assert Notice.objects.filter(recipient=captain, kind="exit_proposed").exists()
        assert (
            Notice.objects.filter(recipient=member.user, kind="warning", channel="inbox").count()
            == 3
        )
        # A third warning does not open a second pending proposal.
        third = self._warn(api, member, "再次缺席").json()
        assert third["exit_proposal"] is None
        assert ExitProposal.objects.filter(member=member, status="pending").count() == 1
        # Only the captain decides; a reason is required; bad input changes nothing.
        path = f"/exit-proposals/{proposal['id']}/confirm"
        assert api_as("county_admin").post(path, {"reason": "同意"}).status_code == 403
        assert api_as("volunteer").post(path, {"reason": "同意"}).status_code == 404
        assert api.post(path, {"reason": ""}).status_code == 422
        response = api.post(path, {"reason": "屡次违规，确认退出"})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "confirmed"
        member.refresh_from_db()
        assert member.status == MemberStatus.EXITED
        change = StatusChange.objects.filter(member=member).order_by("-changed_at", "-id").first()
        assert change.to_status == "exited" and "屡次违规" in change.reason
        assert api.post(path, {"reason": "再来"}).status_code == 409
        assert Notice.objects.filter(recipient=member.user, kind="exit_decided").exists()
        # An exited member is not warned again.
        assert self._warn(api, member).status_code == 400

    def test_reject_and_configured_rule(self, cast, api_as):
        admin = api_as("county_admin")
        zhuji = cast.units["zhuji"].pk
        assert admin.get(f"/associations/{zhuji}/violation-rule").json()["default"] is True
        bad = admin.put(
            f"/associations/{zhuji}/violation-rule", {"warnings": 0, "window_months": 12}
        )
        assert bad.status_code == 422
        assert api_as("captain").put(
            f"/associations/{zhuji}/violation-rule", {"warnings": 3, "window_months": 6}
        ).status_code in (403, 404)
        rule = admin.put(
            f"/associations/{zhuji}/violation-rule", {"warnings": 3, "window_months": 6}
        )
        assert rule.status_code == 200 and rule.json()["label"] == "6个月内第3次警告建议退出"
        member = _plain_members(cast, 1)[0]
        api = api_as("captain")
        assert self._warn(api, member).json()["exit_proposal"] is None
        assert self._warn(api, member).json()["exit_proposal"] is None
        proposal = self._warn(api, member).json()["exit_proposal"]
        assert proposal["warning_count"] == 3
        response = api.post(
            f"/exit-proposals/{proposal['id']}/reject", {"reason": "已认错，留队察看"}
        )
        assert response.json()["status"] == "rejected"
        member.refresh_from_db()
        assert member.status == MemberStatus.ACTIVE

    def test_warning_access_and_bad_input(self, cast, api_as):
        member = _plain_members(cast, 1)[0]
        before = MemberWarning.objects.count()
        assert self._warn(api_as("outsider"), member).status_code == 404
        assert self._warn(api_as("sibling_captain"), member).status_code == 404
        me = _member(cast, "volunteer")
        assert self._warn(api_as("volunteer"), me).status_code == 403
        assert self._warn(api_as("captain"), _member(cast, "captain")).status_code == 403
        assert (
            api_as("captain")
            .post(f"/members/{member.pk}/warnings", {"reason": "  ", "evidence": "x"})
            .status_code
            == 400
        )
        assert self._warn(api_as("captain"), member, penalty_points="-3").status_code == 422
        assert MemberWarning.objects.count() == before

    def test_proposal_queue_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("captain")
        with django_assert_max_num_queries(8):
            response = api.get("/exit-proposals", {"status": "pending"})
        assert response.status_code == 200
        assert [p["status"] for p in response.json()["items"]] == ["pending"]
        assert api_as("outsider").get("/exit-proposals").json()["count"] == 0
        with django_assert_max_num_queries(8):
            assert api.get(f"/members/{_plain_members(cast, 1)[0].pk}/warnings").status_code == 200


def test_every_honours_write_leaves_an_audit_row(cast, api_as):
    """T5 for the honours endpoints, as one scenario."""
    seen = set()

    def call(who, method, path, data=None, template=None):
        api = api_as(who)
        before = AuditEvent.objects.count()
        response = getattr(api, method)(path, data if data is not None else {})
        assert response.status_code in (200, 201), (path, response.content[:300])
        assert AuditEvent.objects.count() > before, path
        assert AuditEvent.objects.filter(request_id=response["X-Request-ID"]).exists(), path
        seen.add(f"{method} /api/v1{template or path}")
        return response.json()

    zhuji = cast.units["zhuji"].pk
    title = call(
        "county_admin",
        "post",
        "/honour-titles",
        {"association_id": zhuji, "name": "审计称号", "threshold_kind": "manual"},
    )
    rule_title = call(
        "county_admin",
        "post",
        "/honour-titles",
        {
            "association_id": zhuji,
            "name": "审计积分",
            "threshold_kind": "points",
            "threshold_value": "0.01",
        },
    )
    call(
        "county_admin",
        "post",
        f"/honour-titles/{rule_title['id']}/retire",
        None,
        "/honour-titles/{title_id}/retire",
    )
    # apply-rules audits its grants; make one member newly qualify for a fresh rule title
    HonourTitle.objects.filter(pk=rule_title["id"]).update(active=True)
    HonourGrant.objects.filter(title_id=rule_title["id"]).delete()
    call(
        "county_admin",
        "post",
        f"/associations/{zhuji}/honours/apply-rules",
        None,
        "/associations/{unit_id}/honours/apply-rules",
    )
    member, other = _plain_members(cast, 2)
    grant = call(
        "captain",
        "post",
        "/honour-grants",
        {"member_id": member.pk, "title_id": title["id"], "reason": "审计"},
    )
    cert = call(
        "captain",
        "post",
        "/certificates",
        {"member_id": member.pk, "kind": "honour", "grant_id": grant["id"]},
    )
    call(
        "captain",
        "post",
        f"/certificates/{cert['id']}/revoke",
        {"reason": "审计"},
        "/certificates/{certificate_id}/revoke",
    )
    call(
        "county_admin",
        "put",
        f"/associations/{zhuji}/violation-rule",
        {"warnings": 2, "window_months": 12},
        "/associations/{unit_id}/violation-rule",
    )
    warning = {"reason": "审计", "evidence": "审计"}
    t = "/members/{member_id}/warnings"
    call("captain", "post", f"/members/{member.pk}/warnings", warning, t)
    first = call("captain", "post", f"/members/{member.pk}/warnings", warning, t)
    call("captain", "post", f"/members/{other.pk}/warnings", warning, t)
    second = call("captain", "post", f"/members/{other.pk}/warnings", warning, t)
    call(
        "captain",
        "post",
        f"/exit-proposals/{first['exit_proposal']['id']}/reject",
        {"reason": "审计"},
        "/exit-proposals/{proposal_id}/reject",
    )
    call(
        "captain",
        "post",
        f"/exit-proposals/{second['exit_proposal']['id']}/confirm",
        {"reason": "审计"},
        "/exit-proposals/{proposal_id}/confirm",
    )
    assert seen == HONOURS_WRITES


@pytest.mark.parametrize(
    ("when", "months", "expected"),
    [
        ((2026, 3, 31), 1, (2026, 2, 28)),
        ((2024, 2, 29), 12, (2023, 2, 28)),
        ((2026, 1, 15), 12, (2025, 1, 15)),
    ],
)
def test_months_before_clamps_to_month_end(when, months, expected):
    from hongfeng.honours.services.violations import months_before

    moment = datetime(*when, 12, tzinfo=UTC)
    assert months_before(moment, months) == datetime(*expected, 12, tzinfo=UTC)
