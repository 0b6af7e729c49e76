"""Points (issue 5, first slice): the formula and its explanation, rule versions that never
rewrite history, automatic and idempotent awarding on evaluation, correction entries when hours
change, levels at every boundary (7.2.2), cached totals that equal the ledger."""

import uuid
from datetime import timedelta
from decimal import Decimal

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
