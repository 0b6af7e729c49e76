"""The pages: every page renders for the people it is for, refuses the others, keeps its query
count bounded, and its forms change data only through the services."""

import pytest

from hongfeng.accounts.models import RoleAssignment, User
from hongfeng.orgs.models import Unit
from tests.conftest import code_in

EVERYONE = [
    "system_admin",
    "security_admin",
    "auditor",
    "province_admin",
    "county_admin",
    "bureau_officer",
    "station_officer",
    "captain",
    "squad_leader",
    "group_leader",
    "volunteer",
    "outsider",
]


def _text(response) -> str:
    return response.content.decode()


class TestHome:
    @pytest.mark.parametrize("who", EVERYONE)
    def test_home_renders_with_bounded_queries(
        self, cast, page_as, who, django_assert_max_num_queries
    ):
        client = page_as(who)
        # a fixed number whatever the data: since issue 15 a member's card judges which open
        # activities they can join (5.5, a few fixed queries) and a team's card reads its stars
        # and whether it has a captain (5.3, 5.2.4)
        with django_assert_max_num_queries(28):
            response = client.get("/")
        assert response.status_code == 200
        assert cast.users[who].name in _text(response)

    def test_captain_home_shows_real_counts_with_links(self, cast, page_as):
        text = _text(page_as("captain").get("/"))
        assert "红枫义警总队" in text
        team = cast.units["hongfeng"]
        assert f"/orgs/units/?within={team.pk}&amp;kind=squad" in text
        assert "暨阳义警总队" not in text
        # four ordinary groups and the party vanguard post, counted apart
        special = f"/orgs/units/?within={team.pk}&amp;kind=group&amp;special=1"
        assert special in text and "特色小组" in text
        listed = _text(page_as("captain").get(special.replace("&amp;", "&")))
        assert "红枫党员先锋岗" in listed and "第一小组" not in listed

    def test_station_home_counts_guided_teams(self, cast, page_as):
        text = _text(page_as("station_officer").get("/"))
        assert "指导总队" in text

    def test_volunteer_home_shows_their_chain_and_leaders(self, cast, page_as):
        text = _text(page_as("volunteer").get("/"))
        assert "红枫义警总队 / 第一分队 / 第一小组" in text
        assert "楼红枫" in text  # their captain
        assert "指导派出所：枫桥派出所" in text

    def test_large_cards_keep_their_counts_for_a_minute(self, cast, monkeypatch):
        """Province-scale counts are cached (python -m bench: ≈ 0.4 s of database time per
        view); cards below the threshold — every card in the demo — are always fresh."""
        from django.core.cache import cache

        from hongfeng.core import dashboard
        from hongfeng.members.models import Member

        admin = cast.users["county_admin"]
        cache.clear()
        fresh = dashboard.cards_for(admin)
        assert not any(card.note.startswith("范围较大") for card in fresh)
        monkeypatch.setattr(dashboard, "LARGE_COUNT", 1)
        first = dashboard.cards_for(admin)
        assert any(card.note.startswith("范围较大") for card in first)
        Member.objects.filter(user=cast.users["volunteer"]).update(status="exited")
        again = dashboard.cards_for(admin)
        assert [s.value for c in again for s in c.stats] == [
            s.value for c in first for s in c.stats
        ]
        cache.clear()
        recounted = [s.value for c in dashboard.cards_for(admin) for s in c.stats]
        assert recounted != [s.value for c in first for s in c.stats]
        cache.clear()

    def test_anonymous_is_sent_to_login(self, client, db):
        response = client.get("/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")


class TestTree:
    def test_captain_sees_only_their_subtree(self, cast, page_as):
        client = page_as("captain")
        text = _text(client.get("/orgs/"))
        assert "红枫义警总队" in text
        for name in ("诸暨市义警协会", "暨阳义警总队", "西湖义警总队"):
            assert name not in text
        # the guiding station is named on the team, but is not a node the captain can open
        assert f'data-unit="{cast.units["fengqiao"].pk}"' not in text
        children = _text(client.get(f"/orgs/{cast.units['hongfeng'].pk}/children/"))
        assert "第一分队" in children and "红枫党员先锋岗" in children
        assert client.get(f"/orgs/{cast.units['jiyang_team'].pk}/").status_code == 404
        assert client.get(f"/orgs/{cast.units['zhuji'].pk}/children/").status_code == 404

    def test_station_officer_tree_has_station_and_guided_team(self, cast, page_as):
        text = _text(page_as("station_officer").get("/orgs/"))
        assert "枫桥派出所" in text and "红枫义警总队" in text
        assert "暨阳义警总队" not in text

    def test_platform_roles_see_both_roots(self, cast, page_as):
        text = _text(page_as("auditor").get("/orgs/"))
        assert "浙江省义警协会" in text and "浙江省公安厅" in text

    @pytest.mark.parametrize("who", ["county_admin", "station_officer", "volunteer"])
    def test_unit_detail_bounded(self, cast, page_as, who, django_assert_max_num_queries):
        unit = cast.units["hongfeng"]
        client = page_as(who)
        with django_assert_max_num_queries(30):
            response = client.get(f"/orgs/{unit.pk}/")
        assert response.status_code == 200
        assert "枫桥派出所" in _text(response)

    def test_bureau_page_does_not_grow_with_guided_teams(
        self, cast, page_as, django_assert_num_queries
    ):
        from hongfeng.orgs.services import create_unit

        bureau = cast.units["zhuji_bureau"]
        client = page_as("bureau_officer")
        client.get(f"/orgs/{bureau.pk}/")  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as before:
            client.get(f"/orgs/{bureau.pk}/")
        for i in range(5):
            create_unit(
                actor=cast.users["county_admin"],
                parent=cast.units["zhuji"],
                kind="team",
                name=f"新总队{i}",
                guiding_station=cast.units["fengqiao"],
            )
        with django_assert_num_queries(len(before.captured_queries)):
            response = client.get(f"/orgs/{bureau.pk}/")
        assert "新总队4" in _text(response)

    def test_unknown_archive_action_is_404(self, cast, page_as):
        squad = cast.units["hongfeng_squad1"]
        response = page_as("captain").post(f"/orgs/{squad.pk}/explode/", {"version": 1})
        assert response.status_code == 404
        assert not Unit.objects.get(pk=squad.pk).is_archived

    def test_units_list_filters(self, cast, page_as):
        client = page_as("county_admin")
        zhuji = cast.units["zhuji"]
        text = _text(client.get(f"/orgs/units/?within={zhuji.pk}&kind=team"))
        assert "红枫义警总队" in text and "暨阳义警总队" in text
        text = _text(client.get(f"/orgs/units/?within={zhuji.pk}&q=先锋"))
        assert "红枫党员先锋岗" in text and "第一分队" not in text

    def test_guided_teams_list(self, cast, page_as):
        station = cast.units["fengqiao"]
        text = _text(page_as("bureau_officer").get(f"/orgs/units/?within={station.pk}&guided=1"))
        assert "红枫义警总队" in text


class TestUnitForms:
    def test_create_child_and_errors_keep_input(self, cast, page_as):
        client = page_as("captain")
        team = cast.units["hongfeng"]
        response = client.post(
            f"/orgs/new/?parent={team.pk}", {"kind": "squad", "name": "第一分队"}
        )
        assert response.status_code == 200
        assert "已有名为「第一分队」的单位" in _text(response)
        assert 'value="第一分队"' in _text(response)
        response = client.post(
            f"/orgs/new/?parent={team.pk}", {"kind": "squad", "name": "第三分队"}
        )
        assert response.status_code == 302
        assert Unit.objects.filter(parent=team, name="第三分队").exists()

    def test_create_child_forbidden_for_volunteer(self, cast, page_as):
        team = cast.units["hongfeng"]
        response = page_as("volunteer").get(f"/orgs/new/?parent={team.pk}")
        assert response.status_code == 403
        assert "无权" in _text(response)

    def test_edit_team_station(self, cast, page_as):
        team = cast.units["hongfeng"]
        client = page_as("county_admin")
        response = client.post(
            f"/orgs/{team.pk}/edit/",
            {
                "name": "红枫义警总队",
                "guiding_station": cast.units["jiyang_station"].pk,
                "version": team.version,
            },
        )
        assert response.status_code == 302
        team.refresh_from_db()
        assert team.guiding_station == cast.units["jiyang_station"]

    def test_stale_edit_is_refused(self, cast, page_as):
        squad = cast.units["hongfeng_squad1"]
        response = page_as("captain").post(
            f"/orgs/{squad.pk}/edit/", {"name": "改名", "version": squad.version + 3}
        )
        assert response.status_code == 200
        assert "已被他人修改" in _text(response)

    def test_move_page(self, cast, page_as):
        group = cast.units["hongfeng_group1"]
        client = page_as("captain")
        page = _text(client.get(f"/orgs/{group.pk}/move/"))
        assert "第二分队" in page and "第一分队" not in page.split("<select")[1]
        response = client.post(
            f"/orgs/{group.pk}/move/",
            {"parent": cast.units["hongfeng_squad2"].pk, "version": group.version},
        )
        assert response.status_code == 302
        assert Unit.objects.get(pk=group.pk).parent == cast.units["hongfeng_squad2"]

    def test_archive_confirm_then_restore(self, cast, page_as):
        squad = cast.units["hongfeng_squad2"]
        client = page_as("captain")
        assert "共 <strong>3</strong> 个" in _text(client.get(f"/orgs/{squad.pk}/archive/"))
        assert client.post(f"/orgs/{squad.pk}/archive/", {"version": 1}).status_code == 302
        assert Unit.objects.get(pk=squad.pk).is_archived
        response = client.post(f"/orgs/{squad.pk}/restore/", {"version": 2})
        assert response.status_code == 302
        assert not Unit.objects.get(pk=squad.pk).is_archived

    def test_archive_station_in_use_shows_reason(self, cast, page_as):
        station = cast.units["fengqiao"]
        response = page_as("bureau_officer").post(f"/orgs/{station.pk}/archive/", {"version": 1})
        assert response.status_code == 200
        assert "仍在指导总队" in _text(response)

    def test_onboard_form(self, cast, page_as):
        county = cast.units["zhuji"]
        client = page_as("county_admin")
        response = client.post(
            f"/orgs/{county.pk}/onboard/",
            {
                "name": "浣江义警总队",
                "guiding_station": cast.units["jiyang_station"].pk,
                "squads": "一分队：一组、二组\n二分队",
                "special_groups": "党员先锋岗：浣江党员先锋岗",
            },
        )
        assert response.status_code == 302, _text(response)[:2000]
        team = Unit.objects.get(name="浣江义警总队")
        assert Unit.objects.subtree_of(team).count() == 6

    def test_onboard_form_bad_special_group_line(self, cast, page_as):
        county = cast.units["zhuji"]
        response = page_as("county_admin").post(
            f"/orgs/{county.pk}/onboard/",
            {
                "name": "浣江义警总队",
                "guiding_station": cast.units["jiyang_station"].pk,
                "squads": "一分队",
                "special_groups": "不存在的类型：某组",
            },
        )
        assert response.status_code == 200
        assert "第1行格式应为" in _text(response)
        assert not Unit.objects.filter(name="浣江义警总队").exists()

    def test_onboard_only_on_county(self, cast, page_as):
        response = page_as("county_admin").get(f"/orgs/{cast.units['hongfeng'].pk}/onboard/")
        assert response.status_code == 403


class TestRolePages:
    def test_roles_list_scoped(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("captain")
        with django_assert_max_num_queries(20):
            text = _text(client.get("/roles/?q=张三"))
        assert "张三" in text and "139****0033" in text
        assert "13900000033" not in text
        captains = _text(client.get("/roles/?role=captain"))
        assert "楼红枫" in captains and "孙湖滨" not in captains  # another city's captain

    def test_grant_creates_account_and_sends_activation_code(
        self, cast, page_as, sms, django_capture_on_commit_callbacks
    ):
        """2.2: the captain is told where the code went, never a credential."""
        client = page_as("captain")
        group = cast.units["hongfeng_group2"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/roles/grant/?unit={group.pk}",
                {"mobile": "13612345678", "name": "王五", "role": "volunteer"},
                follow=True,
            )
        assert response.status_code == 200
        text = _text(response)
        assert "激活码已通过短信发送至 136****5678" in text
        assert code_in(sms, "13612345678") not in text
        user = User.objects.get(mobile="13612345678")
        assert not user.has_usable_password()
        assert RoleAssignment.objects.get(user=user).unit == group

    def test_grant_errors(self, cast, page_as):
        client = page_as("captain")
        group = cast.units["hongfeng_group2"]
        response = client.post(
            f"/roles/grant/?unit={group.pk}",
            {"mobile": "1361234", "name": "王五", "role": "volunteer"},
        )
        assert "请输入正确的11位手机号码" in _text(response)
        assert (
            page_as("captain").get(f"/roles/grant/?unit={cast.units['xihu_team'].pk}").status_code
            == 404
        )
        own_group = cast.units["hongfeng_group1"]
        assert page_as("volunteer").get(f"/roles/grant/?unit={own_group.pk}").status_code == 403
        assert page_as("volunteer").get(f"/roles/grant/?unit={group.pk}").status_code == 404

    def test_revoke_page(self, cast, page_as):
        assignment = RoleAssignment.objects.get(user=cast.users["volunteer"])
        client = page_as("captain")
        response = client.post(f"/roles/{assignment.pk}/revoke/", {"reason": ""})
        assert response.status_code == 200
        response = client.post(f"/roles/{assignment.pk}/revoke/", {"reason": "离队"})
        assert response.status_code == 302
        assignment.refresh_from_db()
        assert not assignment.is_active

    def test_volunteer_has_no_roles_page(self, cast, page_as):
        assert page_as("volunteer").get("/roles/").status_code == 403


class TestAccountPages:
    def test_sysadmin_disables_and_resets(
        self, cast, page_as, sms, django_capture_on_commit_callbacks
    ):
        client = page_as("system_admin")
        captain = cast.users["captain"]
        assert "楼红枫" in _text(client.get("/accounts/?q=0030"))
        response = client.post(f"/accounts/{captain.pk}/disable/", {"reason": "违纪"})
        assert response.status_code == 302
        assert not User.objects.get(pk=captain.pk).is_active
        client.post(f"/accounts/{captain.pk}/enable/")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/accounts/{captain.pk}/reset/", follow=True)
        text = _text(response)
        assert "原密码和所有登录已失效" in text and "139****0030" in text
        assert "待本人激活" in text
        assert code_in(sms, captain.mobile) not in text
        assert not User.objects.get(pk=captain.pk).has_usable_password()

    def test_disable_without_reason_is_refused(self, cast, page_as):
        client = page_as("system_admin")
        captain = cast.users["captain"]
        response = client.post(f"/accounts/{captain.pk}/disable/", {"reason": ""}, follow=True)
        assert "请填写停用原因" in _text(response)
        assert User.objects.get(pk=captain.pk).is_active

    def test_security_admin_sees_locked(self, cast, page_as):
        from hongfeng.accounts.login import authenticate_mobile
        from hongfeng.core.errors import DomainError

        for _ in range(5):
            with pytest.raises(DomainError):
                authenticate_mobile(mobile="13900000031", password="nope")
        client = page_as("security_admin")
        text = _text(client.get("/accounts/?locked=1"))
        assert "何一队" in text and "楼红枫" not in text
        leader = cast.users["squad_leader"]
        assert "解除锁定" in _text(client.get(f"/accounts/{leader.pk}/"))
        client.post(f"/accounts/{leader.pk}/unlock/")
        assert "何一队" not in _text(client.get("/accounts/?locked=1"))

    @pytest.mark.parametrize("who", ["captain", "auditor", "county_admin"])
    def test_others_have_no_account_management(self, cast, page_as, who):
        assert page_as(who).get("/accounts/").status_code == 403


class TestAuditPages:
    def test_auditor_browses_and_filters(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("auditor")
        with django_assert_max_num_queries(20):
            text = _text(client.get("/audit/?action=unit.created"))
        assert "新建单位" in text
        text = _text(client.get("/audit/?since=not-a-date"))
        assert "日期格式不正确" in text

    def test_event_detail(self, cast, page_as):
        from hongfeng.audit.models import AuditEvent

        event = AuditEvent.objects.filter(action="team.onboarded").first()
        text = _text(page_as("auditor").get(f"/audit/{event.pk}/"))
        assert "队伍一键入驻" in text and event.hash in text

    @pytest.mark.parametrize("who", ["system_admin", "security_admin", "captain"])
    def test_non_auditors_refused(self, cast, page_as, who):
        assert page_as(who).get("/audit/").status_code == 403


class TestMe:
    def test_me_shows_own_mobile_and_tokens(self, cast, page_as):
        from hongfeng.accounts.services import issue_api_token

        issued = issue_api_token(user=cast.users["volunteer"], label="我的手机")
        client = page_as("volunteer")
        text = _text(client.get("/me/"))
        assert "13900000033" in text and "我的手机" in text
        client.post(f"/me/tokens/{issued.record.pk}/revoke/")
        issued.record.refresh_from_db()
        assert issued.record.revoked_at is not None

    def test_cannot_revoke_someone_elses_token(self, cast, page_as):
        from hongfeng.accounts.services import issue_api_token

        issued = issue_api_token(user=cast.users["captain"])
        response = page_as("volunteer").post(f"/me/tokens/{issued.record.pk}/revoke/")
        assert response.status_code == 404


def test_login_page_and_logout(cast, client):
    assert client.get("/login/").status_code == 200
    response = client.post(
        "/login/",
        {"mobile": "13900000033", "password": "Hongfeng@2026", "next": "https://evil.example/"},
    )
    assert response.url == "/"
    response = client.post("/logout/")
    assert response.url == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_keeps_mobile(cast, client):
    response = client.post("/login/", {"mobile": "13900000033", "password": "wrong"})
    text = _text(response)
    assert "手机号或密码不正确。" in text
    assert 'value="13900000033"' in text


def test_security_headers(cast, page_as):
    response = page_as("captain").get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]
