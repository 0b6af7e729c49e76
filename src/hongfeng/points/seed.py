"""The seed's points (the per-team seed step "points.awards", after the activities' history):
the award of every settled participation as the default rule computes it, and each member's
totals and level."""

from decimal import Decimal

from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry, Source
from hongfeng.points.rule_versions import DEFAULT_LABEL

_ENTRY_COLUMNS = (
    "member_id", "team_id", "activity_id", "source", "amount", "earned", "rule_label", "inputs",
    "explanation", "key", "created_by_id", "created_at",
)  # fmt: skip


def _award(seeding, hours: Decimal, difficulty: str, quality: str) -> rules.Award:
    """The default rule's award, computed once per (hours, difficulty, quality)."""
    cache = seeding.__dict__.setdefault("awards", {})
    key = (hours, difficulty, quality)
    award = cache.get(key)
    if award is None:
        award = cache[key] = rules.activity_points(
            rules.DEFAULT, hours=hours, difficulty=difficulty, quality=quality
        )
    return award


def seed_awards(seeding) -> None:
    captain = seeding.captain
    earned: dict[int, Decimal] = {}
    rows = []
    for p, activity_id, hours, difficulty, quality, title, at in seeding.settled:
        award = _award(seeding, hours, difficulty, quality)
        rows.append(
            (p.member_id, p.unit.team_id_or_self, activity_id, Source.ACTIVITY, award.points,
             award.points, DEFAULT_LABEL, award.inputs,
             f"{title}：{award.explanation}"[:300], f"activity:{activity_id}:{p.member_id}",
             captain, at)
        )  # fmt: skip
        earned[p.member_id] = earned.get(p.member_id, Decimal()) + award.points
    seeding.writer.insert(seeding.table(PointsEntry, _ENTRY_COLUMNS), rows)
    totals = []
    for p in seeding.people:
        points = earned.get(p.member_id, Decimal())
        totals.append((p.member_id, points, points, rules.level_of(points)))
    seeding.writer.insert(
        seeding.table(MemberPoints, ("member_id", "earned", "balance", "level")), totals
    )
