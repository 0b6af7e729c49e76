"""Points (issue 5, first slice): the formula and its explanation, rule versions that never
rewrite history, automatic and idempotent awarding on evaluation, correction entries when hours
change, levels at every boundary (7.2.2), cached totals that equal the ledger."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from hongfeng.activities import services as activities
from hongfeng.members.models import Member
from hongfeng.notices.models import Notice
from hongfeng.points import rules, services
from hongfeng.points.models import LevelChange, MemberPoints, PointsEntry

LAT, LON = 29.6263, 120.3176


def test_the_formula_explains_itself():
    award = rules.activity_points(
        rules.DEFAULT, hours=Decimal("2.5"), difficulty="hard", quality="excellent"
    )
    assert award.points == Decimal("45.00")
    assert award.explanation == "2.5 h × 10 × 1.5（困难）× 1.2（优秀）= 45"
    fail = rules.activity_points(
        rules.DEFAULT, hours=Decimal("3"), difficulty="normal", quality="fail"
    )
    assert fail.points == 0


@pytest.mark.parametrize(
    ("points", "label"),
    [
        (0, "暂无等级"),
        (99.99, "暂无等级"),
        (100, "三级义警员"),
        (199.99, "三级义警员"),
        (200, "二级义警员"),
        (300, "一级义警员"),
        (499, "一级义警员"),
        (500, "三级义警长"),
        (700, "二级义警长"),
        (900, "一级义警长"),
        (1499.99, "一级义警长"),
        (1500, "高级义警长"),
        (99999, "高级义警长"),
    ],
)
def test_level_boundaries(points, label):
    assert rules.level_label(rules.level_of(Decimal(str(points)))) == label


@given(st.decimals(min_value=-500, max_value=5000, places=2, allow_nan=False))
def test_level_is_the_number_of_thresholds_reached(points):
    assert rules.level_of(points) == sum(1 for threshold, _ in rules.LEVELS if points >= threshold)


def _evaluated(cast, *, hours=2, difficulty="hard", quality="excellent"):
    """An activity run from sign-up to evaluation with frozen time; returns it and 张三's file."""
    captain = cast.users["captain"]
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    activity = activities.create_activity(
        actor=captain,
        unit=cast.units["hongfeng"],
        audience_unit=None,
        data=activities.ActivityData(
            kind="patrol",
            title="计分巡逻",
            place="枫桥",
            latitude=LAT,
            longitude=LON,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            capacity=5,
            difficulty=difficulty,
            risk_assessment="两人一组",
        ),
    )
    activity = activities.publish_activity(actor=captain, activity=activity)
    user = cast.users["volunteer"]
    member = Member.objects.get(user=user)
    if difficulty == "high_risk":
        from hongfeng.members.services import issue_equipment

        issue_equipment(
            actor=captain, member=member, kind="protective_gear", issued_on=timezone.localdate()
        )
    activities.sign_up(user=user, activity=activity)
    gps = {"latitude": LAT, "longitude": LON}
    with time_machine.travel(start, tick=False):
        activity.refresh_from_db()
        activities.check_in(
            user=user,
            activity=activity,
            data=activities.CheckInData(kind="in", client_id=uuid.uuid4(), **gps),
        )
    with time_machine.travel(start + timedelta(hours=hours), tick=False):
        activities.check_in(
            user=user,
            activity=activity,
            data=activities.CheckInData(kind="out", client_id=uuid.uuid4(), **gps),
        )
        activities.finish_activity(actor=captain, activity=activity)
        activities.rate_participants(actor=captain, activity=activity, ratings={member.pk: quality})
        activity = activities.evaluate_activity(
            actor=captain, activity=activity, effect="good", summary="完成"
        )
    return activity, member


def test_evaluation_awards_points_once(cast):
    before = MemberPoints.objects.get(member__user=cast.users["volunteer"]).earned
    activity, member = _evaluated(cast)
    [entry] = PointsEntry.objects.filter(activity=activity)
    assert entry.amount == Decimal("36.00")  # 2 h × 10 × 1.5 × 1.2
    assert "2 h × 10 × 1.5（困难）× 1.2（优秀）= 36" in entry.explanation
    assert entry.rule_label == services.DEFAULT_LABEL and entry.team == cast.units["hongfeng"]
    assert services.award_activity_points(activity=activity) == []  # a re-run adds nothing
    assert PointsEntry.objects.filter(activity=activity).count() == 1
    totals = MemberPoints.objects.get(member=member)
    assert totals.earned == before + Decimal("36.00")
    rebuilt = services.rebuild_totals(member)
    assert (rebuilt.earned, rebuilt.balance, rebuilt.level) == (
        totals.earned,
        totals.balance,
        totals.level,
    )


def test_hours_correction_adds_a_correction_with_the_original_rule(cast, api_as):
    activity, member = _evaluated(cast)
    services.publish_rule(
        actor=cast.users["county_admin"],
        association=cast.units["zhuji"],
        per_hour="20",
        difficulty=rules.DEFAULT_DIFFICULTY,
        quality=rules.DEFAULT_QUALITY,
    )
    response = api_as("captain").post(
        f"/activities/{activity.pk}/hours/corrections",
        {"member_id": member.pk, "hours": "1.5", "reason": "提前离开"},
    )
    assert response.status_code == 201, response.json()
    entries = list(PointsEntry.objects.filter(activity=activity).order_by("id"))
    assert [e.source for e in entries] == ["activity", "correction"]
    assert entries[1].amount == Decimal("-9.00")  # 1.5 h × 10 (the old version) × 1.5 × 1.2 = 27
    assert entries[1].rule_label == services.DEFAULT_LABEL


def test_a_new_rule_version_applies_to_new_awards_only(cast):
    first, _member = _evaluated(cast)
    rule = services.publish_rule(
        actor=cast.users["county_admin"],
        association=cast.units["zhuji"],
        per_hour="20",
        difficulty=rules.DEFAULT_DIFFICULTY,
        quality=rules.DEFAULT_QUALITY,
        note="加大激励",
    )
    second, _member = _evaluated(cast)
    old = PointsEntry.objects.get(activity=first)
    new = PointsEntry.objects.get(activity=second)
    assert old.amount == Decimal("36.00") and old.rule is None
    assert new.amount == Decimal("72.00") and new.rule == rule
    assert new.rule_label == "诸暨市义警协会 第1版"


def test_level_up_is_recorded_and_told(cast):
    member = Member.objects.get(user=cast.users["volunteer"])
    totals, _ = MemberPoints.objects.get_or_create(member=member)
    MemberPoints.objects.filter(member=member).update(
        earned=Decimal("95"), balance=Decimal("95"), level=0
    )
    _evaluated(cast, hours=1, difficulty="normal", quality="good")  # +10 → 105
    totals.refresh_from_db()
    assert totals.level == 1
    change = LevelChange.objects.filter(member=member).first()
    assert (change.from_level, change.to_level) == (0, 1)
    assert Notice.objects.filter(recipient=member.user, kind="level_up", channel="inbox").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("per_hour", "-1"),
        ("difficulty", {**rules.DEFAULT_DIFFICULTY, "hard": "-1.5"}),
        ("quality", {"excellent": "1.2"}),
    ],
)
def test_bad_rules_are_refused(cast, api_as, field, value):
    body = {
        "association_id": cast.units["zhuji"].pk,
        "per_hour": "10",
        "difficulty": rules.DEFAULT_DIFFICULTY,
        "quality": rules.DEFAULT_QUALITY,
        field: value,
    }
    response = api_as("county_admin").post("/points-rules", body)
    assert response.status_code == 400 and response.json()["code"] == "invalid_rule"


def test_only_association_admins_publish_rules(cast, api_as):
    body = {
        "association_id": cast.units["zhuji"].pk,
        "per_hour": "12",
        "difficulty": rules.DEFAULT_DIFFICULTY,
        "quality": rules.DEFAULT_QUALITY,
    }
    assert api_as("captain").post("/points-rules", body).status_code == 404  # out of reach
    assert api_as("bureau_officer").post("/points-rules", body).status_code == 404
    ok = api_as("county_admin").post("/points-rules", body)
    assert ok.status_code == 201 and ok.json()["version"] == 1
    team = {**body, "association_id": cast.units["hongfeng"].pk}
    assert api_as("county_admin").post("/points-rules", team).json()["code"] == "not_an_association"


class TestApiAndPages:
    def test_my_points_and_entries(self, cast, api_as):
        api = api_as("volunteer")
        summary = api.get("/me/points").json()
        member = Member.objects.get(user=cast.users["volunteer"])
        assert Decimal(summary["earned"]) == MemberPoints.objects.get(member=member).earned
        assert summary["level_label"]
        entries = api.get("/me/points/entries").json()
        assert entries["count"] == PointsEntry.objects.filter(member=member).count() > 0
        assert "h ×" in entries["items"][0]["explanation"]

    def test_member_points_are_scoped(self, cast, api_as):
        member = Member.objects.get(user=cast.users["volunteer"])
        assert api_as("captain").get(f"/members/{member.pk}/points").status_code == 200
        assert api_as("outsider").get(f"/members/{member.pk}/points").status_code == 404
        assert (
            api_as("sibling_captain").get(f"/members/{member.pk}/points/entries").status_code == 404
        )

    def test_my_points_page(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("volunteer")
        with django_assert_max_num_queries(20):
            response = client.get("/points/")
        text = response.content.decode()
        assert "我的积分" in text and "累计积分" in text and "计分规则" in text
        nav = text[text.index("hf-bottom-nav") :]
        assert all(label in nav for label in ("首页", "活动", "消息", "积分", "我的"))

    def test_demo_totals_equal_the_ledger(self, cast):
        members = Member.objects.filter(points_entries__isnull=False).distinct()
        assert members.count() >= 10
        for member in members:
            cached = MemberPoints.objects.get(member=member)
            rebuilt = services.rebuild_totals(member)
            assert (cached.earned, cached.balance, cached.level) == (
                rebuilt.earned,
                rebuilt.balance,
                rebuilt.level,
            )
        assert LevelChange.objects.exists()  # demo history crosses level thresholds


def test_post_entry_keeps_the_balance_at_or_above_zero(cast):
    from hongfeng.core.errors import DomainError

    member = Member.objects.select_related("unit").get(user=cast.users["volunteer"])
    totals, _ = MemberPoints.objects.get_or_create(member=member)
    balance, earned = totals.balance, totals.earned
    services.post_entry(member=member, source="redemption", amount=-balance, explanation="兑换全部")
    totals.refresh_from_db()
    assert totals.balance == 0 and totals.earned == earned  # redemption never lowers the level
    with pytest.raises(DomainError) as error:
        services.post_entry(
            member=member, source="redemption", amount=Decimal("-1"), explanation="超额"
        )
    assert error.value.code == "insufficient_balance"
    totals.refresh_from_db()
    assert totals.balance == 0


# ---- star ratings (7.2.3) and leaderboards -------------------------------------------------

from hongfeng.points import ratings  # noqa: E402
from hongfeng.points.models import RatingRun  # noqa: E402


def test_competition_ranking_shares_ranks():
    points = {1: Decimal(50), 2: Decimal(40), 3: Decimal(40), 4: Decimal(10)}
    assert ratings.competition_ranks(points) == {1: 1, 2: 2, 3: 2, 4: 4}


@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=40))
def test_tiers_follow_ranks_and_ties_share_the_better_tier(values):
    points = {i: Decimal(v) for i, v in enumerate(values)}
    tiers = ratings.tiers(points)
    for team, (rank, stars) in tiers.items():
        assert rank == 1 + sum(1 for v in points.values() if v > points[team])
        expected = (
            0
            if points[team] <= 0
            else 3
            if rank <= 5
            else 2
            if rank <= 10
            else 1
            if rank <= 20
            else 0
        )
        assert stars == expected
        for other, (other_rank, other_stars) in tiers.items():
            if points[other] == points[team]:
                assert (other_rank, other_stars) == (rank, stars)


@pytest.mark.parametrize(
    ("base", "last", "before", "stars"),
    [
        (3, False, False, 3),
        (3, True, False, 4),
        (3, True, True, 5),
        (3, False, True, 3),
        (2, True, True, 2),
        (0, True, True, 0),
    ],
)
def test_consecutive_years_promote(base, last, before, stars):
    assert ratings.final_stars(base, last, before) == stars


def _this_year_run(cast):
    year = (timezone.localdate() - timedelta(days=10)).year
    return RatingRun.objects.get(association=cast.units["shaoxing"], year=year)


def test_demo_rating_has_ties_and_a_four_star_team(cast):
    run = _this_year_run(cast)
    results = {r.team.name: r for r in run.results.select_related("team")}
    assert results["红枫义警总队"].rank == 1 and results["红枫义警总队"].stars == 4
    assert results["浣东义警总队"].stars == 4  # ★★★ last year too
    tie = results["大唐义警总队"], results["次坞义警总队"]
    assert [r.rank for r in tie] == [5, 5] and [r.base_stars for r in tie] == [3, 3]
    assert results["牌头义警总队"].rank == 7 and results["牌头义警总队"].stars == 2
    assert results["暨阳义警总队"].stars == 0  # no points, no star
    assert services.check_rating(run) == []


def test_recheck_finds_a_changed_ledger(cast):
    from hongfeng.activities.models import Activity

    run = _this_year_run(cast)
    member = Member.objects.filter(unit__name="平水义警总队").select_related("unit").first()
    activity = Activity.objects.get(title=f"平水义警总队{run.year}年度平安巡防")
    services.post_entry(
        member=member,
        source="correction",
        amount=Decimal(500),
        explanation="补记",
        activity=activity,
    )
    problems = services.check_rating(run)
    assert problems and any("平水义警总队" in p for p in problems)


def test_rating_api_scope_and_public_page(cast, api_as, anon_api, client):
    year = (timezone.localdate() - timedelta(days=10)).year
    body = {"association_id": cast.units["zhuji"].pk, "year": year}
    assert api_as("captain").post("/star-ratings", body).status_code == 404
    assert api_as("station_officer").post("/star-ratings", body).status_code == 404
    created = api_as("county_admin").post("/star-ratings", body)
    assert created.status_code == 201
    run = created.json()
    assert {r["team"]["name"] for r in run["results"]} == {"红枫义警总队", "暨阳义警总队"}
    assert anon_api.get(f"/public/star-ratings/{run['id']}").status_code == 404  # not published
    assert api_as("county_admin").get(f"/star-ratings/{run['id']}/check").json()["consistent"]
    published = api_as("county_admin").post(f"/star-ratings/{run['id']}/publish")
    assert published.json()["published"] is True
    assert anon_api.get(f"/public/star-ratings/{run['id']}").status_code == 200
    page = client.get(f"/public/ratings/{run['id']}/")
    assert page.status_code == 200 and "★" in page.content.decode()
    assert api_as("outsider").get(f"/star-ratings/{run['id']}").status_code == 404
    bad = api_as("county_admin").post(
        "/star-ratings", {**body, "association_id": cast.units["hongfeng"].pk}
    )
    assert bad.json()["code"] == "not_an_association"


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _served(cast, members, at, *, hours=2, title="坚持服务"):
    """An activity of the 红枫义警总队 held at `at` (local), evaluated the next day with settled
    hours and points for `members` — what evaluation leaves behind, built directly."""
    from hongfeng.activities.models import (
        Activity,
        ActivityStatus,
        HoursEntry,
        HoursSource,
        Participation,
        ParticipationStatus,
    )

    captain = cast.users["captain"]
    team = cast.units["hongfeng"]
    starts = at
    ends = starts + timedelta(hours=hours)
    activity = Activity.objects.create(
        kind="patrol",
        title=title,
        unit=team,
        audience_unit=team,
        place="枫桥",
        latitude=LAT,
        longitude=LON,
        starts_at=starts,
        ends_at=ends,
        capacity=len(members),
        difficulty="normal",
        risk_assessment="两人一组",
        status=ActivityStatus.EVALUATED,
        created_by=captain,
        published_at=starts - timedelta(days=3),
        evaluated_at=ends + timedelta(days=1),
        checkout_due_at=ends + timedelta(minutes=30),
        checkouts_swept_at=ends + timedelta(minutes=30),
    )
    for member in members:
        Participation.objects.create(
            activity=activity,
            member=member,
            status=ParticipationStatus.CONFIRMED,
            queued_at=starts - timedelta(days=2),
            updated_at=starts - timedelta(days=2),
            quality="good",
            rated_by=captain,
            rated_at=ends + timedelta(days=1),
        )
        HoursEntry.objects.create(
            activity=activity,
            member=member,
            hours=Decimal(hours),
            source=HoursSource.CHECKINS,
            recorded_by=captain,
            recorded_at=ends + timedelta(days=1),
        )
    with time_machine.travel(ends + timedelta(days=1), tick=False):
        services.award_activity_points(activity=activity, actor=captain)
    return activity


def _board(api, cast, month):
    answer = api.get("/leaderboard", {"unit_id": cast.units["hongfeng"].pk, "month": month})
    assert answer.status_code == 200
    return answer.json()


def _mine(rows, member):
    from hongfeng.core.masking import mask_name

    name = mask_name(member.name)
    return [r for r in rows if r["name"] == name and r["unit"] == member.unit.name]


@pytest.mark.parametrize(
    "today",
    [
        datetime(2031, 1, 1, 0, 30, tzinfo=SHANGHAI),  # New Year's night: the year turned too
        datetime(2031, 1, 20, 12, tzinfo=SHANGHAI),
        datetime(2031, 1, 31, 23, 59, tzinfo=SHANGHAI),
    ],
)
def test_leaderboard_counts_service_by_the_activitys_month(cast, api_as, today):
    """Points count in the month the service was done, not the day it was evaluated; a run of
    months that reached last month is still a run all through this month (it used to vanish
    on the 1st, issue 15 §1); a month without service ends it."""
    steady, lapsed = list(
        Member.objects.filter(
            unit__path__startswith=cast.units["hongfeng"].path, status__in=["active", "core"]
        ).order_by("pk")[:2]
    )
    for last_day in (date(2030, 10, 31), date(2030, 11, 30), date(2030, 12, 31)):
        # 23:00 on a month's last evening (local): that month, though it ends in the next one
        # and is evaluated there, and though it is still the same day in UTC.
        _served(cast, [steady], datetime.combine(last_day, time(23), SHANGHAI))
    _served(cast, [lapsed], datetime(2030, 10, 15, 9, tzinfo=SHANGHAI))
    with time_machine.travel(today, tick=False):
        api = api_as("captain")  # a token issued "now"
        december = _board(api, cast, "2030-12")
        january = _board(api, cast, "2031-01")
    [top] = _mine(december["top"], steady)
    assert Decimal(top["this"]) == Decimal(20) and Decimal(top["last"]) == Decimal(20)
    assert not _mine(december["improved"], steady)  # 20 then 20: no improvement
    assert [r["months"] for r in _mine(december["steady"], steady)] == [3]
    assert not _mine(january["top"], steady)  # December's points stay in December
    assert [r["months"] for r in _mine(january["steady"], steady)] == [3]
    assert not _mine(january["steady"] + december["steady"], lapsed)


def test_a_finished_month_without_service_ends_the_run(cast, api_as):
    member = Member.objects.filter(
        unit__path__startswith=cast.units["hongfeng"].path, status__in=["active", "core"]
    ).first()
    _served(cast, [member], datetime(2030, 9, 10, 9, tzinfo=SHANGHAI))
    _served(cast, [member], datetime(2030, 10, 10, 9, tzinfo=SHANGHAI), hours=3)
    with time_machine.travel(datetime(2031, 3, 1, 9, tzinfo=SHANGHAI), tick=False):
        api = api_as("captain")
        november = _board(api, cast, "2030-11")
        october = _board(api, cast, "2030-10")
    assert not _mine(november["steady"], member)  # November is over: no grace
    assert [r["months"] for r in _mine(october["steady"], member)] == [2]
    [row] = _mine(october["improved"], member)
    assert Decimal(row["delta"]) == Decimal(10)  # 3 h × 10 in October against 2 h × 10


def test_leaderboard_and_ranking_page(cast, api_as, page_as, django_assert_max_num_queries):
    members = list(
        Member.objects.filter(
            unit__path__startswith=cast.units["hongfeng"].path, status__in=["active", "core"]
        ).order_by("pk")[:3]
    )
    _served(cast, members, datetime(2030, 11, 12, 9, tzinfo=SHANGHAI))
    _served(cast, members[:1], datetime(2030, 12, 2, 9, tzinfo=SHANGHAI))
    with time_machine.travel(datetime(2030, 12, 8, 10, tzinfo=SHANGHAI), tick=False):
        body = _board(api_as("captain"), cast, "2030-12")
        names = {m.name for m in members}
        for row in body["top"] + body["improved"] + body["steady"]:
            assert row["name"] not in names  # masked
        assert _mine(body["top"], members[0]) and _mine(body["steady"], members[0])
        assert (
            api_as("outsider")
            .get("/leaderboard", {"unit_id": cast.units["hongfeng"].pk, "month": "2030-12"})
            .status_code
            == 404
        )
        client = page_as("captain")
        with django_assert_max_num_queries(40):
            text = client.get("/points/ranking/").content.decode()
    assert "年度星级评定" in text and "坚持服务" in text and "表彰统计" in text
    assert "2030年12月" in text
    response = client.post(
        "/points/ranking/", {"association": cast.units["zhuji"].pk, "year": "2026"}
    )
    assert response.status_code == 404  # the county is out of a captain's reach: nothing is run
    assert not RatingRun.objects.filter(association=cast.units["zhuji"]).exists()


def test_rating_writes_are_audited(cast, api_as):
    """T5 for the two rating endpoints (listed in the guard of
    tests/audit/test_audited_writes.py)."""
    from hongfeng.audit.models import AuditEvent

    api = api_as("county_admin")
    year = timezone.localdate().year
    created = api.post("/star-ratings", {"association_id": cast.units["zhuji"].pk, "year": year})
    assert AuditEvent.objects.filter(
        request_id=created["X-Request-ID"], action="points.rating_run"
    ).exists()
    published = api.post(f"/star-ratings/{created.json()['id']}/publish")
    assert AuditEvent.objects.filter(
        request_id=published["X-Request-ID"], action="points.rating_published"
    ).exists()


@pytest.mark.parametrize(
    "earned",
    ["-5", "0", "99.99", "100", "199.99", "200", "499.99", "500", "1499.99", "1500", "9000"],
)
def test_level_in_sql_is_level_of(db, earned):
    """The set-based rebuild computes levels in SQL: the same thresholds as `level_of`."""
    from django.db import connection

    from hongfeng.points import rules

    with connection.cursor() as cursor:
        case = rules.level_sql("x")  # a constant CASE: no input reaches the SQL text
        cursor.execute(f"SELECT {case} FROM (SELECT CAST(%s AS NUMERIC) AS x) t", [earned])  # noqa: S608
        assert cursor.fetchone()[0] == rules.level_of(Decimal(earned))


def test_rebuild_all_totals_repairs_the_cache(cast):
    member = Member.objects.get(user=cast.users["volunteer"])
    truth = services.rebuild_totals(member)
    MemberPoints.objects.filter(member=member).update(
        earned=Decimal(1), balance=Decimal(1), level=0
    )
    assert services.rebuild_all_totals() >= 1
    repaired = MemberPoints.objects.get(member=member)
    assert (repaired.earned, repaired.balance, repaired.level) == (
        truth.earned,
        truth.balance,
        truth.level,
    )
    assert services.rebuild_all_totals() == 0  # nothing left to repair


# ---- access matrix rows for the points endpoints (T2) ---------------------------------------
ALL_ROLES = [
    "province_admin",
    "city_admin",
    "county_admin",
    "bureau_officer",
    "station_officer",
    "captain",
    "squad_leader",
    "group_leader",
    "volunteer",
    "outsider",
    "outside_captain",
    "sibling_captain",
    "system_admin",
    "security_admin",
    "auditor",
]
# Who reads 张三's points (the reach of members.view, plus himself).
READS_ZHANGSAN = {
    "province_admin",
    "city_admin",
    "county_admin",
    "bureau_officer",
    "station_officer",
    "captain",
    "squad_leader",
    "group_leader",
    "volunteer",
}
# Who sees the 诸暨市义警协会 unit, and who may set its rules and rate its teams.
SEES_ZHUJI = {
    "province_admin",
    "city_admin",
    "county_admin",
    "system_admin",
    "security_admin",
    "auditor",
}
RULES_ZHUJI = {"province_admin", "city_admin", "county_admin"}


@pytest.mark.parametrize("who", ALL_ROLES)
def test_points_access_matrix(cast, api_as, who):
    api = api_as(who)
    zhangsan = Member.objects.get(user=cast.users["volunteer"]).pk
    reads = 200 if who in READS_ZHANGSAN else 404
    assert api.get(f"/members/{zhangsan}/points").status_code == reads
    assert api.get(f"/members/{zhangsan}/points/entries").status_code == reads
    month = timezone.localdate().strftime("%Y-%m")
    board = api.get("/leaderboard", {"unit_id": cast.units["hongfeng"].pk, "month": month})
    leaders = READS_ZHANGSAN - {"volunteer", "group_leader", "squad_leader"}
    assert board.status_code == (200 if who in leaders else 404)
    allowed = 201 if who in RULES_ZHUJI else 403 if who in SEES_ZHUJI else 404
    rule = {
        "association_id": cast.units["zhuji"].pk,
        "per_hour": "10",
        "difficulty": rules.DEFAULT_DIFFICULTY,
        "quality": rules.DEFAULT_QUALITY,
    }
    assert api.post("/points-rules", rule).status_code == allowed
    year = timezone.localdate().year
    rating = api.post("/star-ratings", {"association_id": cast.units["zhuji"].pk, "year": year})
    assert rating.status_code == allowed


def test_ranking_page_shows_last_month_until_this_one_has_points(cast, page_as):
    """On the 1st nothing is evaluated yet: the page shows the month before, says so, and links
    back a month; a month asked for is shown as it is, even empty."""
    member = Member.objects.get(user=cast.users["volunteer"])
    _served(cast, [member], datetime(2030, 11, 20, 9, tzinfo=SHANGHAI))
    with time_machine.travel(datetime(2030, 12, 1, 8, tzinfo=SHANGHAI), tick=False):
        client = page_as("volunteer")
        text = client.get("/points/ranking/").content.decode()
        asked = client.get("/points/ranking/?month=2030-12").content.decode()
    assert "2030年11月 排行" in text and "本月还没有已评价的活动" in text
    assert "month=2030-10" in text and "month=2030-12" in text
    assert "2030年12月 排行" in asked and "这个月还没有积分记录" in asked
    assert "month=2031-01" not in asked  # the future has no board
