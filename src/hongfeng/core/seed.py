"""Seed data at scale (issue 6): a whole association tower with teams, members, evaluated
activities, check-ins, hours and points, written through `bulk_create` in chunks.

Everything lives under its own root, "压测省义警协会（<scale>·种子<seed>）", and its own police
line, so a seed never mixes with the demo tower and a second run of the same scale and seed is
refused. Generation is streamed team by team (one team's rows in memory at a time) and is
deterministic for a seed: one `random.Random(seed)` drives every choice.

Mobile numbers and ID numbers encode the scale and the seed, so seeds 0–99 of every scale can
live side by side in one database.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    Difficulty,
    Effect,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
    Quality,
)
from hongfeng.core import crypto
from hongfeng.core.idnumber import check_character
from hongfeng.members.models import Member, MemberStatus
from hongfeng.members.services.files import ID_INDEX, id_number_index, pinyin_of
from hongfeng.orgs.models import Unit, UnitKind
from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry, Source

BATCH = 2000
HOUR = Decimal("0.01")
DEFAULT_LABEL = "默认规则（团体标准）"  # as hongfeng.points.services.DEFAULT_LABEL


@dataclass(frozen=True)
class Scale:
    code: int  # one digit, part of every generated mobile and ID number
    cities: int
    counties: int
    teams: int
    members: int
    checkins_per_member: int = 10  # five activities per member, a check-in and a check-out each


SCALES: dict[str, Scale] = {
    "small": Scale(0, cities=1, counties=2, teams=4, members=200),
    "county": Scale(1, cities=1, counties=1, teams=20, members=4_000),
    "city": Scale(2, cities=1, counties=10, teams=138, members=13_000),
    "province": Scale(3, cities=11, counties=90, teams=1_000, members=200_000),
}
SQUADS_PER_TEAM = 3
GROUPS_PER_SQUAD = 2
STATIONS_PER_COUNTY = 3

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"
_PLACE = "东西南北安平宁康泰和兴华云山水江湖海桥溪林石金玉嘉临清"
_ACTIVITY_TITLES = {
    ActivityKind.PATROL: "夜间巡逻守护",
    ActivityKind.PUBLICITY: "反诈防范宣传",
    ActivityKind.RISK_INSPECTION: "出租房风险排查",
    ActivityKind.CARE: "关爱独居老人",
    ActivityKind.SECURITY_DUTY: "大型活动安保勤务",
    ActivityKind.MEDIATION: "邻里矛盾化解",
}
_QUALITY_WEIGHTS = [(Quality.EXCELLENT, 2), (Quality.GOOD, 5), (Quality.PASS, 3)]
_DIFFICULTY_WEIGHTS = [
    (Difficulty.NORMAL, 6),
    (Difficulty.HARDER, 2),
    (Difficulty.HARD, 1),
    (Difficulty.HIGH_RISK, 1),
]


class AlreadySeeded(Exception):
    pass


def root_name(scale: str, seed: int) -> str:
    return f"压测省义警协会（{scale}·种子{seed}）"


def is_seeded(scale: str, seed: int) -> bool:
    return Unit.objects.filter(parent__isnull=True, name=root_name(scale, seed)).exists()


def person_name(rng: Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))


def _weighted(rng: Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def mobile_for(scale: Scale, seed: int, n: int) -> str:
    """19 + scale digit + two seed digits + six digits of the running number."""
    return f"19{scale.code}{seed:02d}{n:06d}"


def id_number_for(scale: Scale, seed: int, n: int, rng: Random) -> str:
    """A valid GB 11643 number, unique per (scale, seed, n): the region carries the scale, the
    seed and n % 100, the birth date n // 100 (born 1960–2004), the sequence is random."""
    region = f"5{scale.code}{seed:02d}{n % 100:02d}"
    born = date(1960, 1, 1) + timedelta(days=(n // 100) * 8 + rng.randrange(8))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_character(first17)


class Progress:
    """Counts rows per table and prints a line now and then (rows/s over the whole run)."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()
        self._last = self.started
        self.last_elapsed = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n

    def tick(self, label: str, *, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self._last >= 2:
            self._last = now
            elapsed = self.last_elapsed = now - self.started
            self.write(
                f"  {label}: {self.total:,} 行，{elapsed:.1f} 秒，{self.total / elapsed:,.0f} 行/秒"
            )


def _bulk(model, rows: list, progress: Progress) -> list:
    created = model.objects.bulk_create(rows, batch_size=BATCH)
    progress.add(model._meta.db_table, len(rows))
    return created


def _units(rows: list[tuple[Unit, Unit | None]], progress: Progress) -> list[Unit]:
    """Bulk-create units and give them the path and depth `create_unit` would: the parent's
    path plus "<own id>/", depth one below the parent (a root: "/<id>/", depth 0)."""
    units = []
    for unit, parent in rows:
        unit.parent = parent
        unit.depth = parent.depth + 1 if parent else 0
        unit.path = f"tmp:{uuid.uuid4().hex}"
        units.append(unit)
    units = _bulk(Unit, units, progress)
    for unit, (_u, parent) in zip(units, rows, strict=True):
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.objects.bulk_update(units, ["path"], batch_size=BATCH)
    return units


def _place_names(rng: Random, count: int, suffix: str) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = "".join(rng.sample(_PLACE, 2)) + suffix
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class Seeder:
    def __init__(self, scale: str, seed: int, write: Callable[[str], None] = print):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}")
        if not 0 <= seed <= 99:
            raise ValueError("seed must be 0–99")
        self.scale_name, self.scale, self.seed = scale, SCALES[scale], seed
        # Deterministic test data, not security: the same seed must give the same rows.
        self.rng = Random(seed)  # noqa: S311
        self.progress = Progress(write)
        self.write = write
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.person = 0  # running number for mobiles and ID numbers

    # ---- the tower ---------------------------------------------------------------------------

    def build_tower(self) -> list[tuple[Unit, list[Unit]]]:
        """Associations and police line down to the teams with their squads and groups.
        Returns [(team, [groups…])…]."""
        s, rng = self.scale, self.rng
        root, bureau = _units(
            [
                (
                    Unit(name=root_name(self.scale_name, self.seed), kind="province_association"),
                    None,
                ),
                (
                    Unit(
                        name=f"压测省公安厅（{self.scale_name}·种子{self.seed}）",
                        kind="province_bureau",
                    ),
                    None,
                ),
            ],
            self.progress,
        )
        self.root, self.bureau = root, bureau
        city_names = _place_names(rng, s.cities, "市")
        cities = _units(
            [(Unit(name=f"{n}义警协会", kind=UnitKind.CITY_ASSOCIATION), root) for n in city_names]
            + [(Unit(name=f"{n}公安局", kind=UnitKind.CITY_BUREAU), bureau) for n in city_names],
            self.progress,
        )
        city_assocs, city_bureaus = cities[: s.cities], cities[s.cities :]
        county_rows_a, county_rows_b = [], []
        for i, per_city in enumerate(_split(s.counties, s.cities)):
            for name in _place_names(rng, per_city, "县"):
                county_rows_a.append(
                    (Unit(name=f"{name}义警协会", kind="county_association"), city_assocs[i])
                )
                county_rows_b.append(
                    (Unit(name=f"{name}公安局", kind="county_bureau"), city_bureaus[i])
                )
        counties = _units(county_rows_a + county_rows_b, self.progress)
        county_assocs, county_bureaus = counties[: s.counties], counties[s.counties :]
        stations = _units(
            [
                (Unit(name=f"{name}派出所", kind=UnitKind.STATION), cb)
                for cb in county_bureaus
                for name in _place_names(rng, STATIONS_PER_COUNTY, "")
            ],
            self.progress,
        )
        team_rows = []
        for i, per_county in enumerate(_split(s.teams, s.counties)):
            own_stations = stations[i * STATIONS_PER_COUNTY : (i + 1) * STATIONS_PER_COUNTY]
            for j, name in enumerate(_place_names(rng, per_county, "")):
                team = Unit(
                    name=f"{name}义警总队{j + 1}",
                    kind=UnitKind.TEAM,
                    guiding_station=rng.choice(own_stations),
                )
                team_rows.append((team, county_assocs[i]))
        teams = _units(team_rows, self.progress)
        squads = _units(
            [
                (Unit(name=f"第{k + 1}分队", kind=UnitKind.SQUAD, team=team), team)
                for team in teams
                for k in range(SQUADS_PER_TEAM)
            ],
            self.progress,
        )
        groups = _units(
            [
                (Unit(name=f"第{k + 1}小组", kind=UnitKind.GROUP, team=squad.team), squad)
                for squad in squads
                for k in range(GROUPS_PER_SQUAD)
            ],
            self.progress,
        )
        per_team = SQUADS_PER_TEAM * GROUPS_PER_SQUAD
        self.progress.tick("组织架构", force=True)
        return [(team, groups[i * per_team : (i + 1) * per_team]) for i, team in enumerate(teams)]

    # ---- one team ----------------------------------------------------------------------------

    def seed_team(self, team: Unit, groups: list[Unit], members: int) -> None:
        rng, now = self.rng, self.now
        captain = self.actor
        people = []
        for _ in range(members):
            self.person += 1
            n = self.person
            name = person_name(rng)
            people.append(
                (n, name, id_number_for(self.scale, self.seed, n, rng), rng.choice(groups))
            )
        users = _bulk(
            User,
            [
                User(
                    mobile=mobile_for(self.scale, self.seed, n),
                    name=name,
                    password=make_password(None),
                )
                for n, name, _id, _g in people
            ],
            self.progress,
        )
        member_rows = []
        for user, (_n, name, number, group) in zip(users, people, strict=True):
            pinyin, initials = pinyin_of(name)
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            joined = (now - timedelta(days=400 + rng.randrange(1500))).date()
            member_rows.append(
                Member(
                    user=user,
                    unit=group,
                    name=name,
                    name_pinyin=pinyin,
                    name_initials=initials,
                    id_number_encrypted=crypto.encrypt(number, field=ID_INDEX),
                    id_number_index=id_number_index(number),
                    id_last4=number[-4:],
                    birth_date=born,
                    gender="male" if int(number[16]) % 2 else "female",
                    status=MemberStatus.ACTIVE,
                    status_changed_at=now - timedelta(days=300),
                    joined_on=joined,
                )
            )
        created = _bulk(Member, member_rows, self.progress)
        _bulk(
            RoleAssignment,
            [
                RoleAssignment(
                    user_id=m.user_id, role=Role.VOLUNTEER, unit_id=m.unit_id, granted_by=captain
                )
                for m in created
            ],
            self.progress,
        )
        self._activities(team, created)

    def _activities(self, team: Unit, members: list[Member]) -> None:
        """Evaluated past activities until every member has about five participations."""
        rng, now, actor = self.rng, self.now, self.actor
        target = len(members) * self.scale.checkins_per_member // 2
        plans = []  # (activity, [members])
        booked = 0
        while booked < target:
            size = min(len(members), rng.randint(8, 20), target - booked)
            size = max(size, 1)
            kind = rng.choice(list(_ACTIVITY_TITLES))
            starts = now - timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 12))
            ends = starts + timedelta(hours=rng.choice([2, 3, 4]))
            lat, lon = 30.0 + rng.random(), 120.0 + rng.random()
            activity = Activity(
                kind=kind,
                title=_ACTIVITY_TITLES[kind],
                unit=team,
                audience_unit=team,
                place=f"{team.name}辖区",
                latitude=lat,
                longitude=lon,
                starts_at=starts,
                ends_at=ends,
                capacity=size + rng.randint(0, 5),
                confirmed_count=size,
                difficulty=_weighted(rng, _DIFFICULTY_WEIGHTS),
                status=ActivityStatus.EVALUATED,
                checkout_due_at=ends + timedelta(hours=2),
                checkouts_swept_at=ends + timedelta(hours=2),
                effect=rng.choice([Effect.EXCELLENT, Effect.GOOD, Effect.FAIR]),
                created_by=actor,
                published_at=starts - timedelta(days=3),
                evaluated_at=ends + timedelta(days=1),
            )
            plans.append((activity, rng.sample(members, size)))
            booked += size
        activities = _bulk(Activity, [a for a, _ in plans], self.progress)
        participations, checkins, hours_rows, points_rows = [], [], [], []
        earned: dict[int, Decimal] = {}
        for activity, joined in zip(activities, [p for _, p in plans], strict=True):
            rated_at = activity.evaluated_at
            for member in joined:
                quality = _weighted(rng, _QUALITY_WEIGHTS)
                participations.append(
                    Participation(
                        activity=activity,
                        member=member,
                        status=ParticipationStatus.CONFIRMED,
                        queued_at=activity.published_at,
                        updated_at=rated_at,
                        quality=quality,
                        rated_by=actor,
                        rated_at=rated_at,
                    )
                )
                # Inside the window: in up to 20 minutes late, out up to 20 minutes early.
                at_in = activity.starts_at + timedelta(minutes=rng.randint(0, 20))
                at_out = activity.ends_at - timedelta(minutes=rng.randint(0, 20))
                for kind, at in ((CheckInKind.IN, at_in), (CheckInKind.OUT, at_out)):
                    checkins.append(
                        CheckIn(
                            activity=activity,
                            member=member,
                            kind=kind,
                            method=CheckInMethod.GPS if rng.random() < 0.8 else CheckInMethod.QR,
                            client_id=uuid.UUID(int=rng.getrandbits(128)),
                            at=at,
                            device_time=at,
                            received_at=at + timedelta(seconds=rng.randint(1, 30)),
                            latitude=activity.latitude,
                            longitude=activity.longitude,
                            accuracy_m=float(rng.randint(5, 40)),
                            distance_m=float(rng.randint(0, 200)),
                            recorded_by_id=member.user_id,
                        )
                    )
                hours = clipped_hours(activity.starts_at, activity.ends_at, at_in, at_out)
                hours_rows.append(
                    HoursEntry(
                        activity=activity,
                        member=member,
                        hours=hours,
                        source=HoursSource.CHECKINS,
                        recorded_by=actor,
                        recorded_at=rated_at,
                    )
                )
                award = rules.activity_points(
                    rules.DEFAULT, hours=hours, difficulty=activity.difficulty, quality=quality
                )
                points_rows.append(
                    PointsEntry(
                        member=member,
                        team_id=member.unit.team_id_or_self,
                        activity=activity,
                        source=Source.ACTIVITY,
                        amount=award.points,
                        earned=award.points,
                        rule=None,
                        rule_label=DEFAULT_LABEL,
                        inputs=award.inputs,
                        explanation=f"{activity.title}：{award.explanation}"[:300],
                        key=f"activity:{activity.pk}:{member.pk}",
                        created_by=None,
                        created_at=rated_at,
                    )
                )
                earned[member.pk] = earned.get(member.pk, Decimal(0)) + award.points
        _bulk(Participation, participations, self.progress)
        _bulk(CheckIn, checkins, self.progress)
        _bulk(HoursEntry, hours_rows, self.progress)
        _bulk(PointsEntry, points_rows, self.progress)
        _bulk(
            MemberPoints,
            [
                MemberPoints(
                    member=m,
                    earned=earned.get(m.pk, Decimal(0)),
                    balance=earned.get(m.pk, Decimal(0)),
                    level=rules.level_of(earned.get(m.pk, Decimal(0))),
                )
                for m in members
            ],
            self.progress,
        )

    # ---- the whole run -----------------------------------------------------------------------

    def run(self) -> Progress:
        if is_seeded(self.scale_name, self.seed):
            raise AlreadySeeded(
                f"数据库中已有 {self.scale_name} 规模、种子 {self.seed} 的压测数据"
                f"（「{root_name(self.scale_name, self.seed)}」），未做任何改动。"
            )
        with transaction.atomic():
            self.actor = User.objects.create(
                mobile=mobile_for(self.scale, self.seed, 0),
                name="压测管理员",
                password=make_password(None),
            )
            self.progress.add("accounts_user", 1)
            teams = self.build_tower()
            RoleAssignment.objects.create(
                user=self.actor, role=Role.ASSOCIATION_ADMIN, unit=self.root
            )
        per_team = _split(self.scale.members, len(teams))
        for (team, groups), members in zip(teams, per_team, strict=True):
            with transaction.atomic():
                self.seed_team(team, groups, members)
            self.progress.tick(f"{team.name}")
        self.progress.tick("完成", force=True)
        return self.progress


def clipped_hours(starts: datetime, ends: datetime, at_in: datetime, at_out: datetime) -> Decimal:
    """The check-in span clipped to the activity window, in hours to two places (as
    hongfeng.activities.services.completion.computed_hours counts a pair)."""
    from hongfeng.activities.services.completion import _hours

    lo, hi = max(at_in, starts), min(at_out, ends)
    return _hours(max((hi - lo).total_seconds(), 0.0))
