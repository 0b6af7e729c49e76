"""The points formula and the member levels, as pure functions (requirements.md "Points";
7.2.2). The default rule is version 0; an association may publish its own versions."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

POINT = Decimal("0.01")

DEFAULT_PER_HOUR = Decimal("10")
DEFAULT_DIFFICULTY = {"normal": "1.0", "harder": "1.2", "hard": "1.5", "high_risk": "2.0"}
DEFAULT_QUALITY = {"excellent": "1.2", "good": "1.0", "pass": "0.8", "fail": "0"}

DIFFICULTY_LABELS = {"normal": "普通", "harder": "较难", "hard": "困难", "high_risk": "高风险"}
QUALITY_LABELS = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}

# 7.2.2: cumulative earned points → level (below 100: no level).
LEVELS: list[tuple[int, str]] = [
    (100, "三级义警员"),
    (200, "二级义警员"),
    (300, "一级义警员"),
    (500, "三级义警长"),
    (700, "二级义警长"),
    (900, "一级义警长"),
    (1500, "高级义警长"),
]
NO_LEVEL = "暂无等级"


def level_of(earned: Decimal | int) -> int:
    """0 below 100 points, else 1..7 (the index into LEVELS plus one)."""
    level = 0
    for i, (threshold, _label) in enumerate(LEVELS, start=1):
        if earned >= threshold:
            level = i
    return level


def level_sql(column: str) -> str:
    """`level_of` as a SQL CASE over a column or expression (set-based rebuilds)."""
    whens = " ".join(
        f"WHEN {column} >= {threshold} THEN {level}"
        for level, (threshold, _label) in reversed(list(enumerate(LEVELS, start=1)))
    )
    return f"CASE {whens} ELSE 0 END"


def level_label(level: int) -> str:
    return LEVELS[level - 1][1] if level else NO_LEVEL


def next_level(level: int) -> tuple[int, str] | None:
    """(threshold, label) of the next level, or None at the top."""
    return LEVELS[level] if level < len(LEVELS) else None


@dataclass(frozen=True)
class Coefficients:
    """One version of a rule: points per hour, and the difficulty and quality factors."""

    per_hour: Decimal
    difficulty: dict[str, Decimal]
    quality: dict[str, Decimal]


DEFAULT = Coefficients(
    per_hour=DEFAULT_PER_HOUR,
    difficulty={k: Decimal(v) for k, v in DEFAULT_DIFFICULTY.items()},
    quality={k: Decimal(v) for k, v in DEFAULT_QUALITY.items()},
)


@dataclass(frozen=True)
class Award:
    points: Decimal
    explanation: str
    inputs: dict


def plain(value: Decimal) -> str:
    """10, 1.2 — never 1E+1 or 1.20: a coefficient or an amount as people write it."""
    return format(value.normalize(), "f")


def activity_points(
    coefficients: Coefficients, *, hours: Decimal, difficulty: str, quality: str
) -> Award:
    """points = hours × per hour × difficulty × quality, explained so the entry speaks for
    itself: "2.5 h × 10 × 1.5 (困难) × 1.2 (优秀) = 45"."""
    d, q = coefficients.difficulty[difficulty], coefficients.quality[quality]
    points = (hours * coefficients.per_hour * d * q).quantize(POINT, rounding=ROUND_HALF_UP)
    explanation = (
        f"{plain(hours)} h × {plain(coefficients.per_hour)} × {plain(d)}"
        f"（{DIFFICULTY_LABELS[difficulty]}）× {plain(q)}（{QUALITY_LABELS[quality]}）"
        f"= {plain(points)}"
    )
    inputs = {
        "hours": str(hours),
        "per_hour": str(coefficients.per_hour),
        "difficulty": difficulty,
        "difficulty_factor": str(d),
        "quality": quality,
        "quality_factor": str(q),
    }
    return Award(points, explanation, inputs)
