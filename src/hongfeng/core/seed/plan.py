"""The people, units and activity plan of one team, as the seeder generates them."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    ActivityStatus,
    Difficulty,
)
from hongfeng.core.seed.scales import _ACTIVITY_TITLES, _PLACE, _RISK_ASSESSMENT

# ---- the people of one team ----------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    id: int
    name: str
    kind: str
    path: str
    depth: int
    team_id: int | None  # own id for a team

    @property
    def team_id_or_self(self) -> int:
        return self.team_id or self.id


@dataclass(slots=True)
class _Person:
    """One seeded member while their team is generated."""

    n: int
    name: str
    id_number: str
    unit: _Unit
    status: str
    role: str
    joined: date
    trained: date
    history: list  # [(from, to, at, reason)]
    policies: list  # [(starts_on, ends_on)]
    skills: list
    gear: bool  # holds protective gear (needed for high-risk tasks, 5.4.7)
    since: date  # first day they could join an activity (trained and insured)
    until: date  # last such day (before a suspension, exit or inactivity)
    user_id: int = 0
    member_id: int = 0
    earned: Decimal = field(default_factory=Decimal)


@dataclass(slots=True)
class _Plan:
    """One past activity of a team before it is written."""

    kind: str
    starts: datetime
    ends: datetime
    difficulty: str
    capacity: int
    lat: float
    lon: float
    effect: str
    confirmed: list[_Person]
    waitlisted: list[_Person]

    @property
    def published(self) -> datetime:
        return self.starts - timedelta(days=3)

    @property
    def created(self) -> datetime:
        return self.published - timedelta(hours=1)

    @property
    def evaluated(self) -> datetime:
        return self.ends + timedelta(days=1)

    def row(self, team: _Unit, captain: int) -> tuple:
        """The activity's row for `Seeder.t_activity`: evaluated, checked out by the sweep."""
        swept = self.ends + CHECKOUT_GRACE
        return (
            self.kind, _ACTIVITY_TITLES[self.kind], team.id, team.id, f"{team.name}辖区",
            self.lat, self.lon, self.starts, self.ends, self.capacity, len(self.confirmed),
            len(self.waitlisted), self.difficulty,
            _RISK_ASSESSMENT if self.difficulty == Difficulty.HIGH_RISK else "",
            ActivityStatus.EVALUATED, swept, swept, self.effect, captain, self.published,
            self.published, self.evaluated, self.created,
        )  # fmt: skip


# Timedeltas the hot loop would otherwise build millions of times.
_SECONDS = [timedelta(seconds=i) for i in range(1, 31)]
_MINUTES = [timedelta(minutes=i) for i in range(601)]
_HOURS = [timedelta(hours=i) for i in range(61)]


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
