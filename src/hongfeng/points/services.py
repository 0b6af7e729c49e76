"""Awarding points (5.4.5): an evaluated activity's settled hours, its difficulty and each
participant's rated quality become ledger entries under the rule version in force — once per
member and activity (a re-run adds nothing; a later hours correction adds a correction entry
computed with the same rule version). Totals and levels move in the same transaction."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit, UnitKind
from hongfeng.points import ratings, rules
from hongfeng.points.models import (
    LevelChange,
    MemberPoints,
    PointsEntry,
    RatingRun,
    Source,
    TeamRating,
)

# The rule versions live in their own module (the rules page uses it too); awards read them here.
from hongfeng.points.rule_versions import (  # noqa: F401 — re-exported as services.*
    DEFAULT_LABEL,
    coefficients_of,
    publish_rule,
    rule_for,
)

__all__ = [
    "award_activity_points",
    "check_rating",
    "post_entry",
    "publish_rating",
    "publish_rule",
    "rebuild_all_totals",
    "rebuild_totals",
    "rule_for",
    "run_rating",
    "team_points",
]


def _apply(entries: list[PointsEntry]) -> None:
    """Insert the entries and move each member's totals under a row lock (members in id order,
    so two awards never deadlock); a level change is recorded and told."""
    if not entries:
        return
    PointsEntry.objects.bulk_create(entries)
    by_member: dict[int, list[PointsEntry]] = defaultdict(list)
    for entry in entries:
        by_member[entry.member_id].append(entry)
    ids = sorted(by_member)
    MemberPoints.objects.bulk_create(
        [MemberPoints(member_id=m) for m in ids], ignore_conflicts=True
    )
    totals = {
        t.member_id: t
        for t in MemberPoints.objects.select_for_update()
        .filter(member_id__in=ids)
        .order_by("member_id")
    }
    now = timezone.now()
    changes = []
    for member_id in ids:
        total = totals[member_id]
        before = total.level
        for entry in by_member[member_id]:
            total.earned += entry.earned
            total.balance += entry.amount
        if total.balance < 0:
            raise DomainError("积分余额不足。", code="insufficient_balance")
        total.level = rules.level_of(total.earned)
        if total.level != before:
            changes.append(
                LevelChange(
                    member_id=member_id,
                    from_level=before,
                    to_level=total.level,
                    entry=by_member[member_id][-1],
                    changed_at=now,
                )
            )
    MemberPoints.objects.bulk_update(
        list(totals.values()), ["earned", "balance", "level", "updated_at"]
    )
    LevelChange.objects.bulk_create(changes)
    for change in changes:
        if change.to_level > change.from_level:
            _tell_level_up(change)


def _tell_level_up(change: LevelChange) -> None:
    from hongfeng.members.models import Member
    from hongfeng.notices.services import notify_all

    member = Member.objects.select_related("user").get(pk=change.member_id)
    label = rules.level_label(change.to_level)
    notify_all(
        user=member.user,
        kind="level_up",
        title=f"晋升为{label}",
        body=f"您的累计积分已达到{label}的标准（7.2.2），感谢您的付出！",
        ref=f"level:{change.member_id}:{change.to_level}",
        link="/points/",
    )


def post_entry(
    *,
    member,
    source: str,
    amount: Decimal,
    explanation: str,
    actor=None,
    earned: Decimal | None = None,
    key: str | None = None,
    activity=None,
    inputs: dict | None = None,
) -> PointsEntry:
    """Append one entry and move the member's totals (for awards, penalties, redemptions and
    refunds by other domains). `earned` defaults to `amount`, except a redemption or its refund,
    which never moves the level (7.2.2). Refused with `insufficient_balance` if the balance
    would go below zero; the caller's transaction rolls back with it. Run inside the caller's
    transaction so the entry and what it pays for commit together."""
    if source not in Source.values:
        raise ValueError(f"unknown points source {source!r}")
    if earned is None:
        earned = Decimal(0) if source == Source.REDEMPTION else Decimal(amount)
    entry = PointsEntry(
        member=member,
        team_id=member.unit.team_id_or_self,
        activity=activity,
        source=source,
        amount=Decimal(amount),
        earned=Decimal(earned),
        rule_label="—",
        inputs=inputs or {},
        explanation=explanation[:300],
        key=key,
        created_by=actor,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        _apply([entry])
    return entry


def award_activity_points(*, activity, actor=None) -> list[PointsEntry]:
    """Points for an evaluated activity (5.4.5): per participant, settled hours × per hour ×
    difficulty × quality. The first award per member and activity is an `activity` entry with
    a unique key; when the settled hours change later, the difference is a `correction` entry
    computed with the rule version of the first award. Running it again adds nothing."""
    from hongfeng.activities.models import Activity, ActivityStatus, Participation
    from hongfeng.activities.services import settled_hours

    with transaction.atomic():
        activity = (
            Activity.objects.select_for_update().select_related("audience_unit").get(pk=activity.pk)
        )
        if activity.status != ActivityStatus.EVALUATED:
            return []
        hours = settled_hours(activity)
        # One query for every rated participant with the team the points count for (7.2.3).
        rated = (
            Participation.objects.filter(activity=activity, member_id__in=list(hours))
            .exclude(quality="")
            .annotate(team=Coalesce("member__unit__team_id", "member__unit_id"))
            .values_list("member_id", "quality", "team")
        )
        booked = _booked(activity)
        current = rule_for(activity.audience_unit)
        entries = [
            entry
            for member_id, quality, team_id in rated
            if (
                entry := _entry(
                    activity, member_id, team_id, hours[member_id], quality, booked, current, actor
                )
            )
        ]
        _apply(entries)
        if entries:
            record_event(
                action="points.awarded",
                actor=actor,
                target=activity,
                unit=activity.unit,
                summary={"entries": len(entries), "points": str(sum(e.amount for e in entries))},
                actor_label=None if actor else "系统",
            )
        return entries


def _booked(activity) -> dict[int, dict]:
    """Per member: the points already booked for this activity and the first award's rule."""
    rows = (
        PointsEntry.objects.filter(activity=activity)
        .select_related("rule__association")
        .order_by("id")
    )
    booked: dict[int, dict] = {}
    for row in rows:
        slot = booked.setdefault(row.member_id, {"sum": Decimal(0), "first": row, "count": 0})
        slot["sum"] += row.amount
        slot["count"] += 1
    return booked


def _entry(
    activity, member_id, team_id, hours, quality, booked, current, actor
) -> PointsEntry | None:
    slot = booked.get(member_id)
    if slot is None:
        coefficients, rule, label = current
    else:
        first = slot["first"]
        rule, label = first.rule, first.rule_label
        coefficients = coefficients_of(rule) if rule else rules.DEFAULT
    award = rules.activity_points(
        coefficients, hours=Decimal(hours), difficulty=activity.difficulty, quality=quality
    )
    common = {
        "member_id": member_id,
        "team_id": team_id,
        "activity": activity,
        "rule": rule,
        "rule_label": label,
        "created_by": actor,
        "created_at": timezone.now(),
    }
    if slot is None:
        return PointsEntry(
            source=Source.ACTIVITY,
            amount=award.points,
            earned=award.points,
            inputs=award.inputs,
            explanation=f"{activity.title}：{award.explanation}"[:300],
            key=f"activity:{activity.pk}:{member_id}",
            **common,
        )
    delta = award.points - slot["sum"]
    if delta == 0:
        return None
    return PointsEntry(
        source=Source.CORRECTION,
        amount=delta,
        earned=delta,
        inputs={**award.inputs, "previous": str(slot["sum"])},
        explanation=(
            f"{activity.title} 服务时长更正后重算：{award.explanation}，原记 {slot['sum']}，"
            f"调整 {delta:+}"
        )[:300],
        key=f"activity:{activity.pk}:{member_id}:{slot['count']}",
        **common,
    )


def rebuild_totals(member) -> MemberPoints:
    """The totals recomputed from the ledger (the check that the cache tells the truth)."""
    sums = PointsEntry.objects.filter(member=member).aggregate(
        earned=Sum("earned"), balance=Sum("amount")
    )
    earned, balance = sums["earned"] or Decimal(0), sums["balance"] or Decimal(0)
    return MemberPoints(member=member, earned=earned, balance=balance, level=rules.level_of(earned))


# ---- annual team star rating (7.2.3) ---------------------------------------------------------


def _year_bounds(year: int):
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def team_points(association: Unit, year: int) -> dict[int, Decimal]:
    """Every active team under the association → the points its members earned in activities
    that started that year (activity awards and their corrections; *Decision*: awards, penalties
    and redemptions are not the team's activity points). One aggregate query."""
    teams = Unit.objects.filter(
        path__startswith=association.path, kind=UnitKind.TEAM, archived_at__isnull=True
    ).values_list("pk", flat=True)
    totals = {team: Decimal(0) for team in teams}
    start, end = _year_bounds(year)
    rows = (
        PointsEntry.objects.filter(
            team__path__startswith=association.path,
            team__kind=UnitKind.TEAM,
            source__in=[Source.ACTIVITY, Source.CORRECTION],
            activity__starts_at__gte=start,
            activity__starts_at__lt=end,
        )
        .values("team_id")
        .annotate(total=Sum("earned"))
    )
    for row in rows:
        if row["team_id"] in totals:
            totals[row["team_id"]] = row["total"] or Decimal(0)
    return totals


def _compute(association: Unit, year: int) -> tuple[dict, dict[int, tuple]]:
    """The inputs (points for the year and the two before) and per team (points, rank, base,
    stars)."""
    years = {y: team_points(association, y) for y in (year, year - 1, year - 2)}
    tiered = {y: ratings.tiers(points) for y, points in years.items()}
    results = {}
    for team, points in years[year].items():
        rank, base = tiered[year][team]
        top_last = tiered[year - 1].get(team, (0, 0))[1] >= 3
        top_before = tiered[year - 2].get(team, (0, 0))[1] >= 3
        results[team] = (points, rank, base, ratings.final_stars(base, top_last, top_before))
    inputs = {str(y): {str(t): str(p) for t, p in points.items()} for y, points in years.items()}
    return inputs, results


@transaction.atomic
def run_rating(*, actor, association: Unit, year: int) -> RatingRun:
    """Rate every team of one association for a finished (or the current) year and store the
    run with its inputs."""
    access.require(actor, "points.rate", association, "只有协会管理员可以进行星级评定。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "星级评定在一个义警协会内进行。", code="not_an_association", field="association_id"
        )
    if not 2000 <= year <= timezone.localdate().year:
        raise DomainError("年份不合理。", code="invalid_year", field="year")
    inputs, results = _compute(association, year)
    run = RatingRun.objects.create(
        association=association,
        year=year,
        inputs=inputs,
        created_by=actor,
        created_at=timezone.now(),
    )
    TeamRating.objects.bulk_create(
        TeamRating(run=run, team_id=team, points=p, rank=rank, base_stars=base, stars=stars)
        for team, (p, rank, base, stars) in results.items()
    )
    record_event(
        action="points.rating_run",
        actor=actor,
        target=association,
        unit=association,
        summary={"year": year, "run": run.pk, "teams": len(results)},
    )
    return run


def check_rating(run: RatingRun) -> list[str]:
    """Re-check a stored run against the ledger today: the differences, in Chinese (empty =
    the run still stands)."""
    _inputs, results = _compute(run.association, run.year)
    stored = {r.team_id: r for r in run.results.select_related("team")}
    problems = []
    for team, (points, rank, _base, stars) in results.items():
        row = stored.pop(team, None)
        if row is None:
            problems.append(f"总队 #{team} 未在本次评定中")
        elif (row.points, row.rank, row.stars) != (points, rank, stars):
            problems.append(
                f"{row.team.name}：评定时 {row.points} 分、第 {row.rank} 名、{row.stars} 星，"
                f"现按台账为 {points} 分、第 {rank} 名、{stars} 星"
            )
    problems.extend(f"{row.team.name} 已不在该协会" for row in stored.values())
    return problems


@transaction.atomic
def publish_rating(*, actor, run: RatingRun) -> RatingRun:
    """Publish a run on the public ratings page."""
    access.require(actor, "points.rate", run.association, "只有协会管理员可以公布星级评定。")
    if run.published:
        return run
    RatingRun.objects.filter(pk=run.pk).update(published=True)
    run.published = True
    record_event(
        action="points.rating_published",
        actor=actor,
        target=run.association,
        unit=run.association,
        summary={"year": run.year, "run": run.pk},
    )
    return run


def rebuild_all_totals() -> int:
    """Recompute every member's totals and level from the ledger (7.2.2) — after a bulk import
    or to prove the cache right. One set-based statement: the ledger summed per member, the
    level as a CASE over the earned total, upserted into the cache wherever a row differs.
    Returns how many members' cached totals changed. Level history is not rewritten: this
    repairs the cache, it does not replay promotions. Like any rebuild from a snapshot, run it
    while no awards are being posted (a concurrent award would be summed without its entry).

    It was one streamed aggregate plus bulk upserts of model objects in Python; at province
    scale (200,000 members, 1,000,000 entries) that took 28 s of the 30 s budget for levels
    and the year's ratings (`python -m bench`), almost all of it building and writing objects.
    """
    from django.db import connection

    table = MemberPoints._meta.db_table
    ledger = PointsEntry._meta.db_table
    # round(…, 2): SQLite keeps decimals as floating point; PostgreSQL's sum is already exact.
    # The SELECT's WHERE is needed by SQLite, which would otherwise read ON CONFLICT as part of
    # a join.
    earned, balance = "round(sum(earned), 2)", "round(sum(amount), 2)"
    sql = f"""
        INSERT INTO {table} (member_id, earned, balance, level, updated_at)
        SELECT member_id, {earned}, {balance}, {rules.level_sql(earned)}, %s
        FROM {ledger} WHERE member_id IS NOT NULL GROUP BY member_id
        ON CONFLICT (member_id) DO UPDATE SET earned = excluded.earned,
            balance = excluded.balance, level = excluded.level, updated_at = excluded.updated_at
        WHERE {table}.earned <> excluded.earned OR {table}.balance <> excluded.balance
            OR {table}.level <> excluded.level
    """  # noqa: S608 — table names and a CASE built from constants; the time is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now()])
        return cursor.rowcount
