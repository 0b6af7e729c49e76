"""Reads of points: a member's totals (one row, never the ledger), their entries."""

from decimal import Decimal

from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry


def summary(member) -> dict:
    """Totals, level and the way to the next level, from the cached row."""
    row = MemberPoints.objects.filter(member=member).first()
    earned = row.earned if row else Decimal(0)
    balance = row.balance if row else Decimal(0)
    level = row.level if row else 0
    upcoming = rules.next_level(level)
    floor = rules.LEVELS[level - 1][0] if level else 0
    progress = None
    if upcoming:
        span = upcoming[0] - floor
        progress = int(max(min((earned - floor) / span * 100, 100), 0)) if span else 100
    return {
        "earned": earned,
        "balance": balance,
        "level": level,
        "level_label": rules.level_label(level),
        "next_level_label": upcoming[1] if upcoming else None,
        "next_threshold": upcoming[0] if upcoming else None,
        "to_next": (Decimal(upcoming[0]) - earned) if upcoming else None,
        "progress": progress,
    }


def entries_of(member):
    return (
        PointsEntry.objects.filter(member=member)
        .select_related("activity")
        .order_by("-created_at", "-id")
    )
