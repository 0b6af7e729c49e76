"""`hongfeng seed` (issue 6): the small scale, run next to the demo tower."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.activities.models import CheckIn, CheckInKind, HoursEntry, Participation
from hongfeng.core import seed
from hongfeng.core.idnumber import parse_id_number
from hongfeng.members.models import Member
from hongfeng.orgs.models import Unit, UnitKind
from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry
from hongfeng.points.services import rebuild_totals


@pytest.fixture
def seeded(cast):
    out = StringIO()
    call_command("seed", "--scale", "small", "--seed", "7", stdout=out)
    root = Unit.objects.get(parent__isnull=True, name=seed.root_name("small", 7))
    return root, out.getvalue()


def _members(root):
    return Member.objects.filter(unit__path__startswith=root.path)


def test_counts_per_kind_match_the_small_scale(seeded):
    root, output = seeded
    small = seed.SCALES["small"]
    kinds = dict(
        Unit.objects.filter(path__startswith=root.path)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    assert kinds == {
        UnitKind.PROVINCE_ASSOCIATION: 1,
        UnitKind.CITY_ASSOCIATION: small.cities,
        UnitKind.COUNTY_ASSOCIATION: small.counties,
        UnitKind.TEAM: small.teams,
        UnitKind.SQUAD: small.teams * seed.SQUADS_PER_TEAM,
        UnitKind.GROUP: small.teams * seed.SQUADS_PER_TEAM * seed.GROUPS_PER_SQUAD,
    }
    members = _members(root)
    assert members.count() == small.members
    checkins = CheckIn.objects.filter(member__in=members).count()
    assert checkins == small.members * small.checkins_per_member
    assert "行/秒" in output


def test_members_are_valid_and_volunteers(seeded):
    root, _ = seeded
    members = list(_members(root).select_related("user")[:25])
    for member in members:
        member.full_clean()
        info = parse_id_number(member.id_number)
        assert info.birth_date == member.birth_date
        assert info.gender == member.gender
    volunteers = set(
        RoleAssignment.objects.active()
        .filter(role=Role.VOLUNTEER, unit__path__startswith=root.path)
        .values_list("user_id", flat=True)
    )
    assert set(_members(root).values_list("user_id", flat=True)) == volunteers


def test_paths_and_depths_are_consistent(seeded):
    root, _ = seeded
    police_root = Unit.objects.get(
        parent__isnull=True, name__startswith="压测省公安厅（small·种子7"
    )
    for top in (root, police_root):
        assert top.path == f"/{top.pk}/" and top.depth == 0
        for unit in Unit.objects.filter(
            path__startswith=top.path, parent__isnull=False
        ).select_related("parent"):
            assert unit.path == f"{unit.parent.path}{unit.pk}/"
            assert unit.depth == unit.parent.depth + 1
            if unit.kind in (UnitKind.SQUAD, UnitKind.GROUP):
                assert unit.team.kind == UnitKind.TEAM and unit.path.startswith(unit.team.path)
            if unit.kind == UnitKind.TEAM:
                assert unit.guiding_station.path.startswith(police_root.path)


def test_checkins_hours_and_points_agree(seeded):
    root, _ = seeded
    members = _members(root)
    participations = Participation.objects.filter(member__in=members).select_related(
        "activity", "member__unit"
    )
    for participation in participations[:200]:
        activity = participation.activity
        pair = {
            c.kind: c.at
            for c in CheckIn.objects.filter(activity=activity, member=participation.member_id)
        }
        assert set(pair) == {CheckInKind.IN, CheckInKind.OUT}
        assert activity.starts_at <= pair[CheckInKind.IN] < pair[CheckInKind.OUT]
        assert pair[CheckInKind.OUT] <= activity.ends_at
        hours = HoursEntry.objects.get(
            activity=activity, member=participation.member_id, source="checkins"
        ).hours
        assert hours == seed.clipped_hours(
            activity.starts_at, activity.ends_at, pair[CheckInKind.IN], pair[CheckInKind.OUT]
        )
        entry = PointsEntry.objects.get(key=f"activity:{activity.pk}:{participation.member_id}")
        assert entry.amount == entry.earned > 0 or participation.quality == "fail"
        award = rules.activity_points(
            rules.DEFAULT,
            hours=hours,
            difficulty=activity.difficulty,
            quality=participation.quality,
        )
        assert entry.explanation == f"{activity.title}：{award.explanation}"
        assert entry.team_id == participation.member.unit.team_id
    assert PointsEntry.objects.filter(member__in=members).count() == participations.count()
    for member in members[:50]:
        cached = MemberPoints.objects.get(member=member)
        truth = rebuild_totals(member)
        assert (cached.earned, cached.balance, cached.level) == (
            truth.earned,
            truth.balance,
            truth.level,
        )


def test_access_is_scoped_to_the_seed_root(seeded, cast):
    root, _ = seeded
    seeded_ids = set(_members(root).values_list("pk", flat=True))
    county_admin = cast.users["county_admin"]
    visible = set(Member.objects.visible_to(county_admin).values_list("pk", flat=True))
    assert not visible & seeded_ids
    admin = User.objects.create(mobile="19999999999", name="压测协会管理员")
    RoleAssignment.objects.create(user=admin, role=Role.ASSOCIATION_ADMIN, unit=root)
    visible = set(Member.objects.visible_to(admin).values_list("pk", flat=True))
    assert seeded_ids <= visible


def test_the_same_seed_twice_is_refused_and_changes_nothing(seeded):
    before = (Unit.objects.count(), Member.objects.count(), CheckIn.objects.count())
    with pytest.raises(CommandError, match="已有 small 规模、种子 7"):
        call_command("seed", "--scale", "small", "--seed", "7", stdout=StringIO())
    assert (Unit.objects.count(), Member.objects.count(), CheckIn.objects.count()) == before


def test_names_are_deterministic_for_a_seed(seeded):
    root, _ = seeded
    names = list(_members(root).order_by("pk").values_list("name", flat=True)[:5])
    assert names == ["蒋敏涛", "林洋鹏", "袁强", "袁宇", "曾刚志"]
