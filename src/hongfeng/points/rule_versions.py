"""An association's points rule versions (5.4.5; requirements.md "Points": the default rule is
configurable per association): publishing a version, finding the one in force, and the worked
example the page shows before a version is published.

A version is in force from its effective time on; it may be scheduled ahead (at most a year),
never back-dated — entries already made keep the version they were made with, so a version
that claimed to apply to the past would contradict the ledger."""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit
from hongfeng.points import rules
from hongfeng.points.models import PointsRule

DEFAULT_LABEL = "默认规则（团体标准）"
MAX_FACTOR = Decimal("100")
# A form filled in at 14:30 for "now" is submitted a little later: that is not back-dating.
PAST_TOLERANCE = timedelta(minutes=5)
MAX_AHEAD = timedelta(days=366)


def coefficients_of(rule: PointsRule) -> rules.Coefficients:
    """The coefficients a stored version holds."""
    return rules.Coefficients(
        per_hour=Decimal(rule.per_hour),
        difficulty={k: Decimal(v) for k, v in rule.difficulty.items()},
        quality={k: Decimal(v) for k, v in rule.quality.items()},
    )


def _label(rule: PointsRule) -> str:
    return f"{rule.association.name} 第{rule.version}版"


def rule_for(unit: Unit, *, at=None) -> tuple[rules.Coefficients, PointsRule | None, str]:
    """The rule in force for activities addressed to `unit` at `at` (default now): of the
    nearest association above it that has a version in force, the one that took effect last,
    else the standard's default. Ordering by effective time (not by version number) lets a
    version scheduled ahead take over when its time comes even if a later-numbered version
    was published for the meantime."""
    at = at or timezone.now()
    ids = [*unit.ancestor_ids(), unit.pk]
    rule = (
        PointsRule.objects.filter(association_id__in=ids, effective_from__lte=at)
        .select_related("association")
        .order_by("-association__depth", "-effective_from", "-version")
        .first()
    )
    if rule is None:
        return rules.DEFAULT, None, DEFAULT_LABEL
    return coefficients_of(rule), rule, _label(rule)


def _factors(raw: dict, expected: dict, name: str) -> dict[str, str]:
    if not isinstance(raw, dict) or set(raw) != set(expected):
        raise DomainError(
            f"须为每一项给出系数：{'、'.join(expected)}。", code="invalid_rule", field=name
        )
    clean = {}
    for key, value in raw.items():
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise DomainError("系数须为数字。", code="invalid_rule", field=name) from None
        if not number.is_finite() or number < 0 or number > MAX_FACTOR:
            raise DomainError(
                f"系数须在 0 到 {MAX_FACTOR} 之间（不能为负数）。", code="invalid_rule", field=name
            )
        clean[key] = str(number)
    return clean


def _effective(value: datetime | None, now: datetime) -> datetime:
    """The version's effective time: now when not given; refused when in the past or more
    than a year ahead."""
    if value is None:
        return now
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < now - PAST_TOLERANCE:
        raise DomainError(
            "生效时间不能早于现在：已记入的积分不会按新规则重算。",
            code="invalid_effective_from",
            field="effective_from",
        )
    if value > now + MAX_AHEAD:
        raise DomainError(
            "生效时间最多只能提前一年设定。", code="invalid_effective_from", field="effective_from"
        )
    return max(value, now)


@transaction.atomic
def publish_rule(
    *,
    actor,
    association: Unit,
    per_hour,
    difficulty: dict,
    quality: dict,
    note: str = "",
    effective_from: datetime | None = None,
) -> PointsRule:
    """A new version of an association's rule, in force from `effective_from` (default now;
    never back-dated, at most a year ahead); earlier entries keep the version they were made
    with."""
    access.require(actor, "points.rules", association, "只有协会管理员可以制定积分规则。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "积分规则由义警协会制定。", code="not_an_association", field="association_id"
        )
    clean_per_hour = _factors({"per_hour": per_hour}, {"per_hour": 1}, "per_hour")["per_hour"]
    difficulty = _factors(difficulty, rules.DEFAULT_DIFFICULTY, "difficulty")
    quality = _factors(quality, rules.DEFAULT_QUALITY, "quality")
    effective = _effective(effective_from, timezone.now())
    Unit.objects.select_for_update().filter(pk=association.pk).first()  # one version at a time
    last = PointsRule.objects.filter(association=association).aggregate(v=Max("version"))["v"]
    rule = PointsRule.objects.create(
        association=association,
        version=(last or 0) + 1,
        per_hour=Decimal(clean_per_hour),
        difficulty=difficulty,
        quality=quality,
        effective_from=effective,
        note=" ".join((note or "").split())[:200],
        created_by=actor,
    )
    record_event(
        action="points.rule_published",
        actor=actor,
        target=association,
        unit=association,
        summary={
            "version": rule.version,
            "per_hour": clean_per_hour,
            "effective_from": effective.isoformat(timespec="minutes"),
        },
    )
    return rule


# ---- what the rules page shows -----------------------------------------------------------------

# The worked example (the brief's "2 h × 10 × 1.5 × 1.2 = 36"): two hours of a 困难 task done
# 优秀, the combination that exercises every factor.
EXAMPLE_HOURS = Decimal("2")
EXAMPLE_DIFFICULTY = "hard"
EXAMPLE_QUALITY = "excellent"


def coefficients_from(per_hour, difficulty: dict, quality: dict) -> rules.Coefficients:
    """Coefficients from the values of a form or a request, checked like `publish_rule`
    checks them (DomainError on the first bad one)."""
    clean_per_hour = _factors({"per_hour": per_hour}, {"per_hour": 1}, "per_hour")["per_hour"]
    return rules.Coefficients(
        per_hour=Decimal(clean_per_hour),
        difficulty={
            k: Decimal(v)
            for k, v in _factors(difficulty, rules.DEFAULT_DIFFICULTY, "difficulty").items()
        },
        quality={
            k: Decimal(v) for k, v in _factors(quality, rules.DEFAULT_QUALITY, "quality").items()
        },
    )


def examples(coefficients: rules.Coefficients, hours: Decimal = EXAMPLE_HOURS) -> list[str]:
    """How the rule computes: the worked example first, then one line per difficulty at the
    quality 良好 — each an explanation exactly as ledger entries will carry it."""
    lines = [
        rules.activity_points(
            coefficients, hours=hours, difficulty=EXAMPLE_DIFFICULTY, quality=EXAMPLE_QUALITY
        ).explanation
    ]
    lines += [
        rules.activity_points(coefficients, hours=hours, difficulty=d, quality="good").explanation
        for d in rules.DIFFICULTY_LABELS
        if d != EXAMPLE_DIFFICULTY
    ]
    return lines


def digest(coefficients: rules.Coefficients, effective_from: datetime | None, note: str) -> str:
    """A fingerprint of what was previewed: publishing values other than those whose example
    the admin saw asks for a new preview first."""
    parts = [
        str(coefficients.per_hour.normalize()),
        *(f"{k}={v.normalize()}" for k, v in sorted(coefficients.difficulty.items())),
        *(f"{k}={v.normalize()}" for k, v in sorted(coefficients.quality.items())),
        effective_from.isoformat() if effective_from else "now",
        " ".join((note or "").split()),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def describe(coefficients: rules.Coefficients) -> dict:
    """The coefficients as the page writes them: 10, 1.2 (never 1.20 or 1E+1), with labels."""
    return {
        "per_hour": rules.plain(coefficients.per_hour),
        "difficulty": [
            (label, rules.plain(coefficients.difficulty[key]))
            for key, label in rules.DIFFICULTY_LABELS.items()
        ],
        "quality": [
            (label, rules.plain(coefficients.quality[key]))
            for key, label in rules.QUALITY_LABELS.items()
        ],
    }


def versions_of(association: Unit, *, limit: int = 50) -> list[dict]:
    """The association's versions, newest first, each with its state now: 生效中 (the one in
    force for the association itself), 待生效 (scheduled ahead) or 已被取代."""
    now = timezone.now()
    _c, current, _l = rule_for(association, at=now)
    rows = (
        PointsRule.objects.filter(association=association)
        .select_related("created_by")
        .order_by("-version")[:limit]
    )
    out = []
    for rule in rows:
        if current is not None and rule.pk == current.pk:
            state = "current"
        elif rule.effective_from > now:
            state = "scheduled"
        else:
            state = "superseded"
        out.append({"rule": rule, "state": state, "shown": describe(coefficients_of(rule))})
    return out


__all__ = [
    "DEFAULT_LABEL",
    "coefficients_from",
    "coefficients_of",
    "describe",
    "digest",
    "examples",
    "publish_rule",
    "rule_for",
    "versions_of",
]
