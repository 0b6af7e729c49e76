"""Two years of team history for the star rating (7.2.3) and levels (7.2.2): a county of
twenty more teams under the 绍兴市义警协会 (上虞区, with its own bureau and station), each with a
member, and one evaluated activity per team and year carried over as history (check-ins,
settled hours, ratings), awarded through the real points path. Last year's and this year's
ratings of the 绍兴市义警协会 are run and published.

The numbers are chosen so the ranking shows what the rules do: a tie at rank 5 that gives both
teams ★★★ (the better tier), teams that were ★★★ last year and are again (★★★★), and teams
without points (no star)."""

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    Activity,
    ActivityKind,
    ActivityStatus,
    ActivityStatusChange,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
    Quality,
)
from hongfeng.activities.services import default_risk_assessment
from hongfeng.members import services as member_services
from hongfeng.members.demo import make_id_number
from hongfeng.orgs.models import UnitKind
from hongfeng.orgs.services import create_unit, onboard_team
from hongfeng.points.services import award_activity_points, publish_rating, run_rating

# (name, points this year, points last year) for the team's member; 10 points per hour (普通, 良好).
TEAMS = [
    ("浣东义警总队", 900, 950),
    ("陶朱义警总队", 800, 300),
    ("店口义警总队", 700, 420),
    ("大唐义警总队", 600, 380),
    ("次坞义警总队", 600, 200),
    ("牌头义警总队", 550, 360),
    ("五泄义警总队", 500, 340),
    ("东白湖义警总队", 450, 320),
    ("赵家义警总队", 450, 0),
    ("同山义警总队", 400, 280),
    ("安华义警总队", 380, 260),
    ("马剑义警总队", 360, 240),
    ("齐贤义警总队", 340, 220),
    ("安昌义警总队", 320, 200),
    ("华舍义警总队", 300, 180),
    ("福全义警总队", 280, 160),
    ("钱清义警总队", 260, 140),
    ("杨汛桥义警总队", 240, 120),
    ("漓渚义警总队", 220, 100),
    ("平水义警总队", 200, 80),
]
# The 红枫义警总队 earns this year's points through the activities demo; last year it led too.
HONGFENG_LAST_YEAR = 1000
COUNTY = "上虞区义警协会"


def build(cast) -> None:
    """A county of teams, their members, two years of evaluated history, and both years'
    published ratings of the city association."""
    admin = cast.users["city_admin"]
    sysadmin = cast.users["system_admin"]
    today = timezone.localdate()
    this_day = today - timedelta(days=10)
    last_day = this_day.replace(year=this_day.year - 1)
    hongfeng_people = list(
        cast.units["hongfeng"].members.filter(status__in=["active", "core"]).order_by("pk")[:2]
    )
    _history(admin, cast.units["hongfeng"], hongfeng_people, last_day, HONGFENG_LAST_YEAR)
    county = create_unit(
        actor=sysadmin,
        parent=cast.units["shaoxing"],
        kind=UnitKind.COUNTY_ASSOCIATION,
        name=COUNTY,
        region_code="330604",
    )
    bureau = create_unit(
        actor=sysadmin,
        parent=cast.units["shaoxing_bureau"],
        kind=UnitKind.COUNTY_BUREAU,
        name="绍兴市公安局上虞区分局",
        region_code="330604",
    )
    station = create_unit(actor=sysadmin, parent=bureau, kind=UnitKind.STATION, name="百官派出所")
    for index, (name, this_year, last_year) in enumerate(TEAMS):
        team = onboard_team(
            actor=sysadmin, county=county, name=name, guiding_station=station, squads=[]
        )
        people = [_member(admin, team, index)]
        _history(admin, team, people, this_day, this_year)
        _history(admin, team, people, last_day, last_year)
    shaoxing = cast.units["shaoxing"]
    for year in (last_day.year, this_day.year):
        run = run_rating(actor=admin, association=shaoxing, year=year)
        publish_rating(actor=admin, run=run)


def _member(admin, team, index: int):
    born = date(1970 + index, 3, 10)
    rng = random.Random(7000 + index)  # noqa: S311 — demo data, deterministic on purpose
    return member_services.register_member(
        actor=admin,
        unit=team,
        name=f"{team.name[:2]}义警",
        id_number=make_id_number(rng, born, index % 2 == 0),
        mobile=f"1355500{index:04d}",
        status="active",
        reason="演示数据",
        joined_on=date(2023, 3, 1),
    )


def _history(admin, team, people, day, points: int) -> None:
    """One evaluated activity of `team` on `day` worth `points` in all (10 per hour each)."""
    if points <= 0 or not people:
        return
    tz = timezone.get_current_timezone()
    hours = Decimal(points) / Decimal(10 * len(people))
    starts = datetime.combine(day, time(8, 0), tz)
    ends = starts + timedelta(hours=float(hours)) + timedelta(hours=1)
    activity = Activity.objects.create(
        kind=ActivityKind.PATROL,
        title=f"{team.name}{day.year}年度平安巡防",
        description="年度平安巡防（历史记录转入）。",
        risk_assessment=default_risk_assessment(unit=team, kind=ActivityKind.PATROL),  # 5.4.7
        unit=team,
        audience_unit=team,
        place=team.name,
        latitude=29.7,
        longitude=120.3,
        starts_at=starts,
        ends_at=ends,
        capacity=len(people),
        status=ActivityStatus.EVALUATED,
        confirmed_count=len(people),
        checkout_due_at=ends + CHECKOUT_GRACE,
        checkouts_swept_at=ends + CHECKOUT_GRACE,
        effect="good",
        effect_summary="按计划完成。",
        created_by=admin,
        published_at=starts - timedelta(days=3),
        evaluated_at=ends + timedelta(days=1),
    )
    ActivityStatusChange.objects.bulk_create(
        ActivityStatusChange(
            activity=activity, from_status=a, to_status=b, changed_by=admin, changed_at=t
        )
        for a, b, t in [
            ("", ActivityStatus.DRAFT, starts - timedelta(days=4)),
            (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, starts - timedelta(days=3)),
            (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, starts),
            (ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED, ends),
            (ActivityStatus.FINISHED, ActivityStatus.EVALUATED, ends + timedelta(days=1)),
        ]
    )
    for member in people:
        Participation.objects.create(
            activity=activity,
            member=member,
            status=ParticipationStatus.CONFIRMED,
            queued_at=starts - timedelta(days=2),
            updated_at=starts - timedelta(days=2),
            quality=Quality.GOOD,
            rated_by=admin,
            rated_at=ends + timedelta(days=1),
        )
        leave = starts + timedelta(hours=float(hours))
        for kind, at in ((CheckInKind.IN, starts), (CheckInKind.OUT, leave)):
            CheckIn(
                activity=activity,
                member=member,
                kind=kind,
                method=CheckInMethod.QR,
                client_id=uuid.uuid5(
                    uuid.NAMESPACE_URL, f"hongfeng:demo:{activity.pk}:{member.pk}:{kind}"
                ),
                at=at,
                received_at=at,
                recorded_by=member.user,
            ).save(force_insert=True)
        HoursEntry.objects.create(
            activity=activity,
            member=member,
            hours=hours.quantize(Decimal("0.01")),
            source=HoursSource.CHECKINS,
            recorded_by=admin,
            recorded_at=ends + timedelta(days=1),
        )
    award_activity_points(activity=activity, actor=admin)
