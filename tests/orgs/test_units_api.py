"""The units API (5.1): lists filtered by kind and name with the guiding station, moves that
would put a unit under its own descendant, and onboarding a whole team in one call."""

from hongfeng.orgs.models import Unit


class TestUnitsApi:
    def test_move_under_own_descendant(self, cast, api_as):
        api = api_as("province_admin")
        city = cast.units["shaoxing"]
        response = api.post(
            f"/units/{city.pk}/move", {"parent_id": cast.units["zhuji"].pk, "version": city.version}
        )
        assert response.status_code == 400
        assert Unit.objects.get(pk=city.pk).parent == cast.units["province"]

    def test_filters(self, cast, api_as):
        api = api_as("county_admin")
        teams = api.get("/units", {"kind": "team"}).json()["items"]
        assert sorted(t["name"] for t in teams) == ["暨阳义警总队", "红枫义警总队"]
        hongfeng = next(t for t in teams if t["name"] == "红枫义警总队")
        assert hongfeng["guiding_station"]["name"] == "枫桥派出所"
        assert hongfeng["children_count"] == 3
        found = api.get("/units", {"q": "先锋"}).json()["items"]
        assert [u["kind_label"] for u in found] == ["党员先锋岗"]


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
