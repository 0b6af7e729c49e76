"""The organisation tower (5.1): kind rules, subtree queries, move, archive, onboarding."""

import pytest

from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import Conflict, DomainError, Forbidden, StaleVersion
from hongfeng.orgs import services
from hongfeng.orgs.models import SpecialTag, Unit, UnitKind
from hongfeng.points.demo import TEAMS as RATING_TEAMS


def _names(qs):
    return sorted(qs.values_list("name", flat=True))


class TestKindRules:
    """5.1.2 association levels, 5.1.3 总队 → 分队 → 小组, and the police line."""

    @pytest.mark.parametrize(
        ("parent_key", "kind"),
        [
            ("shaoxing", UnitKind.TEAM),  # a team sits under a county association
            ("zhuji", UnitKind.SQUAD),  # a squad sits under a team
            ("hongfeng", UnitKind.GROUP),  # an ordinary group sits under a squad
            ("zhuji_bureau", UnitKind.COUNTY_BUREAU),  # a county bureau under a city bureau
            ("zhuji", UnitKind.STATION),  # a station under a county bureau, not an association
            ("province", UnitKind.COUNTY_ASSOCIATION),  # county under city, not province
            ("fengqiao", UnitKind.SQUAD),
        ],
    )
    def test_wrong_kind_under_parent_is_refused(self, cast, parent_key, kind):
        before = Unit.objects.count()
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["system_admin"],
                parent=cast.units[parent_key],
                kind=kind,
                name="新单位",
                guiding_station=cast.units["fengqiao"] if kind == "team" else None,
            )
        assert exc.value.code == "invalid_parent"
        assert "不能设在" in exc.value.message
        assert Unit.objects.count() == before

    def test_special_group_may_sit_directly_under_a_team(self, cast):
        group = services.create_unit(
            actor=cast.users["captain"],
            parent=cast.units["hongfeng"],
            kind=UnitKind.GROUP,
            name="青年突击队",
            special_tag=SpecialTag.YOUTH_COMMANDO,
        )
        assert group.team == cast.units["hongfeng"]
        assert group.kind_display == "青年突击队"

    def test_team_needs_a_guiding_station(self, cast):
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["county_admin"],
                parent=cast.units["zhuji"],
                kind=UnitKind.TEAM,
                name="无所总队",
            )
        assert exc.value.code == "station_required"

    def test_team_guide_must_be_a_station(self, cast):
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["county_admin"],
                parent=cast.units["zhuji"],
                kind=UnitKind.TEAM,
                name="错所总队",
                guiding_station=cast.units["zhuji_bureau"],
            )
        assert exc.value.code == "invalid_station"

    def test_only_platform_system_admin_creates_roots(self, cast):
        with pytest.raises(Forbidden):
            services.create_unit(
                actor=cast.users["province_admin"],
                parent=None,
                kind=UnitKind.PROVINCE_ASSOCIATION,
                name="江苏省义警协会",
            )
        root = services.create_unit(
            actor=cast.users["system_admin"],
            parent=None,
            kind=UnitKind.PROVINCE_ASSOCIATION,
            name="江苏省义警协会",
            region_code="320000",
        )
        assert root.path == f"/{root.pk}/"
        assert root.depth == 0

    def test_duplicate_sibling_name_is_a_conflict(self, cast):
        with pytest.raises(Conflict) as exc:
            services.create_unit(
                actor=cast.users["captain"],
                parent=cast.units["hongfeng"],
                kind=UnitKind.SQUAD,
                name="第一分队",
            )
        assert exc.value.code == "duplicate_name"

    @pytest.mark.parametrize("name", ["", "   ", "名" * 101])
    def test_bad_names(self, cast, name):
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["captain"],
                parent=cast.units["hongfeng"],
                kind=UnitKind.SQUAD,
                name=name,
            )
        assert exc.value.field == "name"

    def test_region_code_format(self, cast):
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["city_admin"],
                parent=cast.units["shaoxing"],
                kind=UnitKind.COUNTY_ASSOCIATION,
                name="上虞区义警协会",
                region_code="33060",
            )
        assert exc.value.code == "invalid_region_code"


class TestTreeQueries:
    def test_subtree_is_one_query(self, cast, django_assert_num_queries):
        with django_assert_num_queries(1):
            names = _names(Unit.objects.subtree_of(cast.units["hongfeng"]))
        assert names == sorted(
            [
                "红枫义警总队",
                "第一分队",
                "第二分队",
                "第一小组",
                "第二小组",
                "第三小组",
                "第四小组",
                "红枫党员先锋岗",
            ]
        )

    def test_teams_under_a_city_association(self, cast, django_assert_num_queries):
        with django_assert_num_queries(1):
            names = _names(Unit.objects.subtree_of(cast.units["shaoxing"]).filter(kind="team"))
        rating_county = sorted(name for name, *_ in RATING_TEAMS)  # the 上虞 demo county
        assert names == sorted(["暨阳义警总队", "柯桥义警总队", "红枫义警总队", *rating_county])

    def test_teams_guided_by_station_and_bureau(self, cast, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert _names(Unit.objects.teams_guided_by(cast.units["fengqiao"])) == ["红枫义警总队"]
        assert _names(Unit.objects.teams_guided_by(cast.units["zhuji_bureau"])) == [
            "暨阳义警总队",
            "红枫义警总队",
        ]
        rating_county = [name for name, *_ in RATING_TEAMS]  # guided by 百官派出所 (上虞)
        assert _names(Unit.objects.teams_guided_by(cast.units["shaoxing_bureau"])) == sorted(
            ["暨阳义警总队", "柯桥义警总队", "红枫义警总队", *rating_county]
        )

    def test_paths_agree_with_parent_links(self, cast):
        """Property of the materialised path: it spells out the chain of parents."""
        for unit in Unit.objects.all():
            chain, node = [], unit
            while node is not None:
                chain.append(node.pk)
                node = node.parent
            assert unit.path == "/" + "/".join(str(i) for i in reversed(chain)) + "/"
            assert unit.depth == len(chain) - 1


class TestMove:
    def test_move_a_squad_to_another_team_moves_its_groups(self, cast):
        squad = cast.units["hongfeng_squad2"]
        target = cast.units["jiyang_team"]
        services.move_unit(
            actor=cast.users["county_admin"],
            unit=squad,
            new_parent=target,
            expected_version=squad.version,
        )
        squad.refresh_from_db()
        assert squad.parent == target
        assert squad.team == target
        groups = Unit.objects.filter(parent=squad)
        assert groups.count() == 2
        for group in groups:
            assert group.path.startswith(target.path)
            assert group.team == target
            assert group.depth == target.depth + 2
        assert _names(Unit.objects.subtree_of(cast.units["hongfeng"]).filter(kind="group")) == [
            "第一小组",
            "第二小组",
            "红枫党员先锋岗",
        ]
        event = AuditEvent.objects.filter(action="unit.moved").latest("id")
        assert event.summary["to"] == target.pk

    def test_move_a_county_to_another_city(self, cast):
        county = cast.units["keqiao"]
        services.move_unit(
            actor=cast.users["province_admin"], unit=county, new_parent=cast.units["hangzhou"]
        )
        team = Unit.objects.get(pk=cast.units["keqiao_team"].pk)
        assert team.path.startswith(cast.units["hangzhou"].path)
        assert team.guiding_station == cast.units["keyan"]

    def test_cannot_move_under_own_descendant(self, cast):
        with pytest.raises(DomainError) as exc:
            services.move_unit(
                actor=cast.users["province_admin"],
                unit=cast.units["shaoxing"],
                new_parent=cast.units["zhuji"],
            )
        assert exc.value.code in {"move_into_subtree", "invalid_parent"}
        with pytest.raises(DomainError) as exc:
            services.move_unit(
                actor=cast.users["captain"],
                unit=cast.units["hongfeng_squad1"],
                new_parent=cast.units["hongfeng_squad1"],
            )
        assert exc.value.code == "move_into_subtree"

    def test_move_into_descendant_of_same_kind_chain(self, cast):
        """A group moved under a squad below itself is impossible; a squad under its own
        group is caught by the subtree rule before the kind rule."""
        with pytest.raises(DomainError) as exc:
            services.move_unit(
                actor=cast.users["captain"],
                unit=cast.units["hongfeng_squad1"],
                new_parent=cast.units["hongfeng_group1"],
            )
        assert exc.value.code == "move_into_subtree"

    def test_wrong_kind_target(self, cast):
        with pytest.raises(DomainError) as exc:
            services.move_unit(
                actor=cast.users["county_admin"],
                unit=cast.units["hongfeng_squad1"],
                new_parent=cast.units["zhuji"],
            )
        assert exc.value.code == "invalid_parent"

    def test_stale_version(self, cast):
        squad = cast.units["hongfeng_squad1"]
        with pytest.raises(StaleVersion):
            services.move_unit(
                actor=cast.users["captain"],
                unit=squad,
                new_parent=cast.units["hongfeng"],
                expected_version=squad.version + 1,
            )

    def test_target_outside_scope_is_forbidden(self, cast):
        with pytest.raises(Forbidden):
            services.move_unit(
                actor=cast.users["captain"],
                unit=cast.units["hongfeng_squad1"],
                new_parent=cast.units["jiyang_team"],
            )


class TestRenameArchive:
    def test_rename_bumps_version_and_audits(self, cast):
        squad = cast.units["hongfeng_squad1"]
        services.rename_unit(
            actor=cast.users["captain"], unit=squad, name="枫桥分队", expected_version=1
        )
        squad.refresh_from_db()
        assert squad.name == "枫桥分队"
        assert squad.version == 2
        event = AuditEvent.objects.filter(action="unit.renamed").latest("id")
        assert event.summary == {"before": "第一分队", "after": "枫桥分队"}
        with pytest.raises(StaleVersion):
            services.rename_unit(
                actor=cast.users["captain"], unit=squad, name="再改", expected_version=1
            )

    def test_archive_and_restore_subtree(self, cast):
        squad = cast.units["hongfeng_squad1"]
        count = services.archive_unit(actor=cast.users["captain"], unit=squad)
        assert count == 3
        assert Unit.objects.subtree_of(squad).active().count() == 0
        squad.refresh_from_db()
        assert services.restore_unit(actor=cast.users["captain"], unit=squad) == 3
        assert Unit.objects.subtree_of(squad).active().count() == 3

    def test_station_guiding_teams_cannot_be_archived(self, cast):
        with pytest.raises(DomainError) as exc:
            services.archive_unit(actor=cast.users["bureau_officer"], unit=cast.units["fengqiao"])
        assert exc.value.code == "station_in_use"
        assert "红枫义警总队" in exc.value.message

    def test_archived_unit_roles_give_no_reach(self, cast):
        from hongfeng.accounts import access

        services.archive_unit(actor=cast.users["county_admin"], unit=cast.units["hongfeng"])
        captain = cast.users["captain"]
        assert not Unit.objects.visible_to(captain).exists()
        assert access.assignments(captain) == []

    def test_change_station(self, cast):
        team = cast.units["hongfeng"]
        services.change_guiding_station(
            actor=cast.users["county_admin"], team=team, station=cast.units["jiyang_station"]
        )
        team.refresh_from_db()
        assert team.guiding_station == cast.units["jiyang_station"]
        assert _names(Unit.objects.teams_guided_by(cast.units["fengqiao"])) == []


class TestOnboard:
    """4.5 队伍一键入驻: one step, all or nothing."""

    def test_onboard_creates_everything(self, cast):
        team = services.onboard_team(
            actor=cast.users["county_admin"],
            county=cast.units["zhuji"],
            name="浣江义警总队",
            guiding_station=cast.units["jiyang_station"],
            squads=[
                services.SquadSpec(
                    "一分队", [services.GroupSpec("一组"), services.GroupSpec("二组")]
                ),
                services.SquadSpec("二分队"),
            ],
            special_groups=[services.GroupSpec("党员先锋岗", SpecialTag.PARTY_VANGUARD)],
        )
        assert Unit.objects.subtree_of(team).count() == 6
        assert AuditEvent.objects.filter(action="team.onboarded", target_id=str(team.pk)).exists()

    @pytest.mark.parametrize(
        ("squads", "special"),
        [
            ([services.SquadSpec("一分队"), services.SquadSpec("一分队")], []),
            (
                [
                    services.SquadSpec(
                        "一分队", [services.GroupSpec("组"), services.GroupSpec("组")]
                    )
                ],
                [],
            ),
            ([services.SquadSpec("一分队", [services.GroupSpec("")])], []),
            ([], [services.GroupSpec("无标签")]),
        ],
    )
    def test_any_error_creates_nothing(self, cast, squads, special):
        before = (Unit.objects.count(), AuditEvent.objects.count())
        with pytest.raises(DomainError):
            services.onboard_team(
                actor=cast.users["county_admin"],
                county=cast.units["zhuji"],
                name="浣江义警总队",
                guiding_station=cast.units["fengqiao"],
                squads=squads,
                special_groups=special,
            )
        assert (Unit.objects.count(), AuditEvent.objects.count()) == before

    def test_late_error_rolls_back_earlier_units(self, cast):
        """The team name clashes only when the team row is written; nothing survives."""
        before = Unit.objects.count()
        with pytest.raises(Conflict):
            services.onboard_team(
                actor=cast.users["county_admin"],
                county=cast.units["zhuji"],
                name="红枫义警总队",
                guiding_station=cast.units["fengqiao"],
                squads=[services.SquadSpec("一分队")],
            )
        assert Unit.objects.count() == before


class TestStaleCopies:
    """Services re-read what they change: a copy loaded before someone else's move or archive
    never files a unit in the wrong place."""

    def test_create_under_a_stale_parent_uses_its_current_path(self, cast):
        stale_team = Unit.objects.get(pk=cast.units["hongfeng"].pk)
        services.move_unit(
            actor=cast.users["city_admin"],
            unit=cast.units["hongfeng"],
            new_parent=cast.units["keqiao"],
        )
        squad = services.create_unit(
            actor=cast.users["system_admin"],
            parent=stale_team,
            kind=UnitKind.SQUAD,
            name="第三分队",
        )
        team = Unit.objects.get(pk=stale_team.pk)
        assert squad.path.startswith(team.path)
        assert team.path.startswith(cast.units["keqiao"].path)

    def test_create_under_a_parent_archived_meanwhile(self, cast):
        stale_squad = Unit.objects.get(pk=cast.units["hongfeng_squad1"].pk)
        services.archive_unit(actor=cast.users["captain"], unit=cast.units["hongfeng_squad1"])
        with pytest.raises(DomainError) as exc:
            services.create_unit(
                actor=cast.users["captain"], parent=stale_squad, kind=UnitKind.GROUP, name="新小组"
            )
        assert exc.value.code == "parent_archived"

    def test_update_is_all_or_nothing(self, cast):
        squad = cast.units["hongfeng_squad1"]
        with pytest.raises(DomainError):
            services.update_unit(
                actor=cast.users["captain"],
                unit=squad,
                name="改名了",
                guiding_station=cast.units["fengqiao"],
                expected_version=1,
            )
        assert Unit.objects.get(pk=squad.pk).name == "第一分队"
