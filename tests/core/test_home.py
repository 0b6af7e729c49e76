"""The home page (core.dashboard): it renders for everyone with a bounded number of queries,
counts real records with links, shows a volunteer their chain and leaders, caches only
province-scale counts, and sends strangers to the login page. Its cards, from issue 15:

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
