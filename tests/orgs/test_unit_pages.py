"""The pages: every page renders for the people it is for, refuses the others, keeps its query
count bounded, and its forms change data only through the services."""

import pytest

from hongfeng.orgs.models import Unit


def _text(response) -> str:
    return response.content.decode()


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
