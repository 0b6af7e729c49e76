"""The home page's cards (core.dashboard), issue 15:

- 5.3: every number on a role's home page equals the count of the list it links to (ui.md:
  every number is a link to the records behind it) — police officers count the teams they
  guide (属地管理 5.1.1), not only their own police subtree; the team's published star rating
  shows to everyone who can see the team (7.2.3);
- 4.3 (5.2.4): a team without a captain is a problem on the home of its association's admins,
  of the police who guide it and of its own leaders, with a link to where a captain is granted.
"""

import re

import pytest
from django.urls import reverse

from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.accounts.services import grant_role_by_mobile, revoke_role
from hongfeng.core.demo import ACCOUNTS
from hongfeng.points import services as points
from hongfeng.points.models import RatingRun


def _listed(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.mark.parametrize("who", [a.key for a in ACCOUNTS])
def test_every_home_number_equals_its_list(cast, page_as, who):
    client = page_as(who)
    cards = client.get("/").context["cards"]
    checked = 0
    for card in cards:
        for stat in card.stats:
            if isinstance(stat.value, int):
                assert _listed(client, stat.url) == stat.value, (card.title, stat.label, stat.url)
                checked += 1
    assert checked or who in ("volunteer",)


@pytest.mark.parametrize("who", ["station_officer", "bureau_officer"])
def test_police_count_the_members_of_the_teams_they_guide(cast, page_as, who):
    """The station officer's home said 「在册队员 0 人」 while he could list the guided team's
    members: the home number and the list both cover the guided teams."""
    client = page_as(who)
    cards = client.get("/").context["cards"]
    stat = next(s for c in cards for s in c.stats if s.label == "在册队员")
    everyone = _listed(client, "/members/?status=serving")
    assert stat.value == everyone > 0
    assert _listed(client, stat.url) == stat.value


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _problems(client) -> list[tuple[str, str, str]]:
    return [p for card in client.get("/").context["cards"] for p in card.problems]


def _revoke_captain(cast):
    assignment = RoleAssignment.objects.get(
        role=Role.CAPTAIN, unit=cast.units["hongfeng"], revoked_at__isnull=True
    )
    revoke_role(actor=cast.users["county_admin"], assignment=assignment, reason="调任")


class TestTeamWithoutCaptain:
    """4.3, clause 5.2.4: exactly one 总队长 per team (应)."""

    def test_association_admin_is_told_with_a_link_to_grant(self, cast, page_as):
        jiyang = cast.units["jiyang_team"]  # demo: a team nobody captains yet
        problems = _problems(page_as("county_admin"))
        assert [p[0] for p in problems] == [
            "「暨阳义警总队」还没有总队长（5.2.4：每个总队应有且只有一名总队长）。"
        ]
        _, action, url = problems[0]
        assert action == "任命总队长" and url == f"{reverse('accounts:grant')}?unit={jiyang.pk}"
        assert page_as("county_admin").get(url).status_code == 200  # the grant form
        page = _text(page_as("county_admin").get("/"))
        assert "待处理" in page and "暨阳义警总队" in page

    def test_the_team_its_station_and_its_association_see_it_until_granted(self, cast, page_as):
        _revoke_captain(cast)
        for who in ("squad_leader", "group_leader", "station_officer", "county_admin"):
            texts = [p[0] for p in _problems(page_as(who))]
            assert any("「红枫义警总队」还没有总队长" in t for t in texts), who
        officer = next(p for p in _problems(page_as("station_officer")) if "红枫" in p[0])
        assert officer[1] == "查看任职人员"  # a station cannot grant it
        assert _problems(page_as("sibling_captain")) == []  # another county's team
        grant_role_by_mobile(
            actor=cast.users["county_admin"],
            mobile="13900000030",
            name="楼红枫",
            role=Role.CAPTAIN,
            unit=cast.units["hongfeng"],
        )
        for who in ("squad_leader", "station_officer"):
            assert not any("红枫" in p[0] for p in _problems(page_as(who))), who

    def test_many_are_counted_and_listed(self, cast, page_as):
        client = page_as("city_admin")  # demo: the rating county's teams have no captains
        problems = _problems(client)
        summary = problems[-1]
        total = int(re.search(r"共 (\d+) 个总队", summary[0]).group(1))
        assert len(problems) == 6 and total > 5
        assert _listed(client, summary[2]) == total
        assert "还没有总队长" in _text(client.get(summary[2]))


class TestStarRating:
    """5.3: 「还没有星级评定」 on the captain's and the station officer's pages while their team
    was published ★★★★."""

    @pytest.mark.parametrize(
        "who", ["captain", "squad_leader", "station_officer", "volunteer", "county_admin"]
    )
    def test_everyone_who_sees_the_team_sees_its_published_stars(self, cast, page_as, who):
        page = _text(page_as(who).get("/points/ranking/"))
        assert "还没有星级评定" not in page
        assert "红枫义警总队" in page and "★★★★" in page

    def test_an_unpublished_run_stays_with_the_association(self, cast, page_as, api_as):
        run = points.run_rating(
            actor=cast.users["city_admin"], association=cast.units["shaoxing"], year=2024
        )
        assert not run.published
        ids = {r["id"] for r in api_as("captain").get("/star-ratings").json()["items"]}
        assert run.pk not in ids and ids  # the published ones only
        assert api_as("captain").get(f"/star-ratings/{run.pk}").status_code == 404
        published = RatingRun.objects.filter(published=True).first()
        check = api_as("captain").get(f"/star-ratings/{published.pk}/check")
        assert check.status_code == 404  # re-checking reads the association's whole ledger
        staff = api_as("city_admin").get("/star-ratings").json()["items"]
        assert run.pk in {r["id"] for r in staff}
        assert api_as("outside_captain").get(f"/star-ratings/{published.pk}").status_code == 404

    @pytest.mark.parametrize("who", ["captain", "squad_leader", "group_leader"])
    def test_the_team_home_shows_its_latest_stars(self, cast, page_as, who):
        stats = [s for c in page_as(who).get("/").context["cards"] for s in c.stats]
        stars = next(s for s in stats if s.label.endswith("年度星级"))
        assert stars.value == "★★★★" and stars.url.startswith("/public/")
