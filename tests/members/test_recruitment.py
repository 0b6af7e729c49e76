"""Recruitment (5.2.2): charters, the public application, review, rejoining (issue 3)."""

import pytest

from hongfeng.accounts.models import RoleAssignment, User
from hongfeng.audit.models import AuditEvent
from hongfeng.core.demo import DEMO_PASSWORD
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.members import services
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Application, Consent, Member

NEW_ID = "11010519491231002X"


def _apply(cast, **overrides):
    values = {
        "team": cast.units["hongfeng"],
        "preferred_unit": cast.units["hongfeng_group2"],
        "name": "李四",
        "id_number": NEW_ID,
        "mobile": "13612345678",
        "password": "Apply#Pass2026",
        "skills": ["first_aid"],
        "motivation": "守护家乡",
        "charter_version": 1,
        "charter_accepted": True,
        "privacy_accepted": True,
        "ip": "10.1.2.3",
    }
    values.update(overrides)
    return services.submit_application(**values)


class TestSubmit:
    def test_submit_stores_no_plaintext(self, cast):
        application = _apply(cast)
        assert application.code.startswith("HF") and application.status == "applied"
        assert NEW_ID not in application.id_number_encrypted
        assert application.password_hash.startswith(("md5$", "argon2$"))
        assert AuditEvent.objects.filter(action="application.submitted").exists()

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"charter_accepted": False}, "consent_required"),
            ({"privacy_accepted": False}, "consent_required"),
            ({"charter_version": 0}, "charter_changed"),
            ({"id_number": VOLUNTEER_ID_NUMBER, "name": "张三"}, "already_member"),
            ({"mobile": "13900000033"}, "mobile_taken"),  # someone else's number
            ({"id_number": "110105194912310021"}, "invalid_id_number"),
            ({"password": "short"}, "weak_password"),
            ({"skills": ["juggling"]}, "unknown_skill"),
        ],
    )
    def test_bad_applications_store_nothing(self, cast, overrides, code):
        before = Application.objects.count()
        with pytest.raises(DomainError) as exc:
            _apply(cast, **overrides)
        assert exc.value.code == code
        assert Application.objects.count() == before

    def test_archived_team_and_team_without_charter(self, cast):
        with pytest.raises(DomainError) as exc:
            _apply(cast, team=cast.units["jiyang_team"], preferred_unit=None)
        assert exc.value.code == "no_charter"
        from hongfeng.orgs.services import archive_unit

        archive_unit(actor=cast.users["county_admin"], unit=cast.units["hongfeng"])
        with pytest.raises(DomainError) as exc:
            _apply(
                cast,
                team=cast.units["hongfeng"].__class__.objects.get(pk=cast.units["hongfeng"].pk),
                preferred_unit=None,
            )
        assert exc.value.code == "invalid_team"

    def test_unit_of_another_team(self, cast):
        with pytest.raises(DomainError) as exc:
            _apply(cast, preferred_unit=cast.units["xihu_team_group1"])
        assert exc.value.code == "invalid_unit"

    def test_one_open_application_per_person(self, cast):
        _apply(cast)
        with pytest.raises(Conflict) as exc:
            _apply(cast, mobile="13612345679")
        assert exc.value.code == "application_pending"

    def test_throttle_per_address(self, cast):
        from hongfeng.core.idnumber import check_character

        for year in range(1980, 1985):
            first17 = f"110105{year}0101001"
            _apply(
                cast,
                id_number=first17 + check_character(first17),
                name="申请人",
                mobile=f"136123456{year % 100:02d}",
            )
        first17 = "11010519900101001"
        with pytest.raises(DomainError) as exc:
            _apply(
                cast,
                id_number=first17 + check_character(first17),
                name="申请人",
                mobile="13612345690",
            )
        assert exc.value.code == "too_many_applications"


class TestReview:
    def test_approve_creates_member_account_and_consents(self, cast):
        application = _apply(cast)
        member = services.approve_application(actor=cast.users["captain"], application=application)
        assert member.status == "probation" and member.unit == cast.units["hongfeng_group2"]
        user = User.objects.get(mobile="13612345678")
        assert user.check_password("Apply#Pass2026")  # the password the applicant chose
        assert RoleAssignment.objects.active().get(user=user).role == "volunteer"
        assert set(Consent.objects.filter(user=user).values_list("kind", flat=True)) == {
            "charter",
            "privacy",
        }
        application.refresh_from_db()
        assert application.status == "approved" and application.password_hash == ""
        with pytest.raises(DomainError):
            services.approve_application(actor=cast.users["captain"], application=application)

    def test_reject_needs_a_reason_and_the_applicant_sees_it(self, cast):
        application = _apply(cast)
        with pytest.raises(DomainError):
            services.reject_application(
                actor=cast.users["captain"], application=application, reason=""
            )
        services.reject_application(
            actor=cast.users["captain"], application=application, reason="暂不招募该岗位"
        )
        found = services.find_application(application.code, "13612345678")
        assert found.status == "rejected" and found.decision_reason == "暂不招募该岗位"
        assert services.find_application(application.code, "13612345670") is None

    def test_only_keepers_review(self, cast):
        application = _apply(cast)
        for who in ("group_leader", "outside_captain", "station_officer", "system_admin"):
            with pytest.raises((Forbidden, DomainError)):
                services.approve_application(actor=cast.users[who], application=application)
        assert Application.objects.get(pk=application.pk).status == "applied"

    def test_exited_member_rejoins_with_the_same_file(self, cast):
        zhangsan = Member.objects.get(name="张三")
        services.change_status(
            actor=cast.users["captain"], member=zhangsan, to="exited", reason="外出务工"
        )
        application = _apply(cast, name="张三", id_number=VOLUNTEER_ID_NUMBER, mobile="13900000033")
        member = services.approve_application(actor=cast.users["captain"], application=application)
        assert member.pk == zhangsan.pk and member.status == "probation"
        assert member.user.check_password(DEMO_PASSWORD)  # an existing account keeps its own
        assert list(member.status_changes.order_by("-id").values_list("to_status", flat=True))[
            :2
        ] == ["probation", "exited"]


class TestCharter:
    def test_publish_new_version(self, cast):
        charter = services.publish_charter(
            actor=cast.users["captain"],
            team=cast.units["hongfeng"],
            joining_conditions="年满18",
            rights_and_duties="权利义务",
            exit_rules="退出",
            code_of_conduct="规范",
        )
        assert charter.version == 2
        with pytest.raises(DomainError) as exc:
            _apply(cast)  # the form still shows version 1
        assert exc.value.code == "charter_changed"
        with pytest.raises(Forbidden):
            services.publish_charter(
                actor=cast.users["squad_leader"],
                team=cast.units["hongfeng"],
                joining_conditions="x",
                rights_and_duties="x",
                exit_rules="x",
                code_of_conduct="x",
            )


class TestApi:
    def test_public_flow(self, cast, anon_api, api_as):
        teams = anon_api.get("/recruiting-teams").json()["items"]
        assert {t["name"] for t in teams} == {"红枫义警总队", "柯桥义警总队"}
        team = cast.units["hongfeng"]
        charter = anon_api.get(f"/teams/{team.pk}/charter").json()
        response = anon_api.post(
            "/applications",
            {
                "team_id": team.pk,
                "name": "李四",
                "id_number": NEW_ID,
                "mobile": "13612345678",
                "password": "Apply#Pass2026",
                "charter_version": charter["version"],
                "charter_accepted": True,
                "privacy_accepted": True,
            },
        )
        assert response.status_code == 201, response.json()
        code = response.json()["code"]
        status = anon_api.get("/applications/lookup", {"code": code, "mobile": "13612345678"})
        assert status.json()["status_label"] == "待审核"
        queue = api_as("captain").get("/applications").json()["items"]
        mine = next(a for a in queue if a["code"] == code)
        assert mine["id_number"] == "1101**********002X" and mine["mobile"] == "136****5678"
        approved = api_as("captain").post(f"/applications/{mine['id']}/approve", {})
        assert approved.json()["status"] == "approved"

    def test_queue_is_scoped(self, cast, api_as):
        assert api_as("outside_captain").get("/applications").json()["count"] == 0
        assert api_as("captain").get("/applications").json()["count"] == 3
        application = Application.objects.filter(status="applied").first()
        assert api_as("outside_captain").get(f"/applications/{application.pk}").status_code == 404
        assert api_as("squad_leader").get(f"/applications/{application.pk}").status_code == 404

    def test_lookup_needs_both_code_and_mobile(self, cast, anon_api):
        application = Application.objects.filter(status="rejected").first()
        response = anon_api.get(
            "/applications/lookup", {"code": application.code, "mobile": "13900000000"}
        )
        assert response.status_code == 404
        response = anon_api.get(
            "/applications/lookup", {"code": application.code, "mobile": application.mobile}
        )
        assert "水上救援" in response.json()["decision_reason"]


class TestPages:
    def test_public_pages(self, cast, client):
        assert "红枫义警总队" in client.get("/apply/").content.decode()
        team = cast.units["hongfeng"]
        page = client.get(f"/apply/{team.pk}/").content.decode()
        assert "入队条件" in page and "个人信息处理告知书" in page
        response = client.post(
            f"/apply/{team.pk}/",
            {
                "name": "李四",
                "id_number": NEW_ID,
                "mobile": "13612345678",
                "password": "Apply#Pass2026",
                "password_again": "Apply#Pass2026",
                "charter_version": 1,
                "charter_accepted": "on",
            },
        )
        assert "请阅读并同意个人信息处理告知书" in response.content.decode()
        response = client.post(
            f"/apply/{team.pk}/",
            {
                "name": "李四",
                "id_number": NEW_ID,
                "mobile": "13612345678",
                "password": "Apply#Pass2026",
                "password_again": "Apply#Pass2026",
                "charter_version": 1,
                "charter_accepted": "on",
                "privacy_accepted": "on",
            },
        )
        code = Application.objects.get(name="李四").code
        assert code in response.content.decode()
        status = client.post("/apply/status/", {"code": code, "mobile": "13612345678"})
        assert "待审核" in status.content.decode()
        assert client.get("/apply/privacy/").status_code == 200
        assert client.get(f"/apply/{cast.units['jiyang_team'].pk}/").status_code == 404

    def test_review_pages(self, cast, page_as):
        client = page_as("captain")
        application = Application.objects.filter(status="applied").first()
        assert application.code in client.get("/members/applications/").content.decode()
        response = client.post(
            f"/members/applications/{application.pk}/", {"reject": "1", "reason": ""}
        )
        assert response.status_code == 200
        response = client.post(
            f"/members/applications/{application.pk}/",
            {"approve": "1", "unit": cast.units["hongfeng_group3"].pk},
        )
        assert response.status_code == 302
        assert Member.objects.get(name=application.name).unit == cast.units["hongfeng_group3"]

    def test_charter_page(self, cast, page_as):
        team = cast.units["hongfeng"]
        client = page_as("captain")
        assert "现行第 1 版" in client.get(f"/members/charter/{team.pk}/").content.decode()
        response = client.post(
            f"/members/charter/{team.pk}/",
            {
                "joining_conditions": "a",
                "rights_and_duties": "b",
                "exit_rules": "c",
                "code_of_conduct": "d",
            },
        )
        assert response.status_code == 302
        assert (
            page_as("squad_leader")
            .post(
                f"/members/charter/{team.pk}/",
                {
                    "joining_conditions": "a",
                    "rights_and_duties": "b",
                    "exit_rules": "c",
                    "code_of_conduct": "d",
                },
            )
            .status_code
            == 404  # the team lies above a squad leader's reach
        )

    def test_an_application_names_its_skills_in_chinese(self, cast, page_as):
        application = next(a for a in Application.objects.all() if "first_aid" in a.skills)
        text = page_as("captain").get(f"/members/applications/{application.pk}/").content.decode()
        assert "急救" in text and "first_aid" not in text


class TestNotices:
    """The applicant is told the decision (5.2.2) through the channel interface; the default
    backend only logs, with the number masked."""

    def test_decisions_are_sent_after_commit(
        self, cast, django_capture_on_commit_callbacks, caplog
    ):
        from hongfeng.notices.models import Notice

        approved, rejected = (
            _apply(cast),
            _apply(cast, name="王五", id_number="110105194912310038", mobile="13612345679"),
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.approve_application(actor=cast.users["captain"], application=approved)
            services.reject_application(
                actor=cast.users["captain"], application=rejected, reason="名额已满"
            )
        notices = {
            n.kind: n for n in Notice.objects.filter(body__regex=f"{approved.code}|{rejected.code}")
        }
        assert notices["application.approved"].status == "sent"
        assert notices["application.approved"].recipient.mobile == "13612345678"
        assert "名额已满" in notices["application.rejected"].body
        assert notices["application.rejected"].status == "sent"
        assert "136****5679" in caplog.text and "13612345679" not in caplog.text

    def test_rolled_back_decisions_tell_nobody(self, cast):
        from hongfeng.notices.models import Notice

        application = _apply(cast)
        before = Notice.objects.count()
        with pytest.raises(DomainError):
            services.reject_application(
                actor=cast.users["captain"], application=application, reason=""
            )
        assert Notice.objects.count() == before
