"""Shapes every seed step shares: a seeded unit, place names, even splits."""

from dataclasses import dataclass
from random import Random

from hongfeng.core.seed.scales import PLACE


@dataclass(slots=True)
class SeedUnit:
    """A unit as the seed wrote it (the steps after the tower need no Unit objects)."""

    id: int
    name: str
    kind: str
    path: str
    depth: int
    team_id: int | None  # own id for a team

    @property
    def team_id_or_self(self) -> int:
        return self.team_id or self.id


def place_names(rng: Random, count: int, suffix: str) -> list[str]:
    """`count` different two-character place names, each followed by `suffix`."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = "".join(rng.sample(PLACE, 2)) + suffix
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` in `parts` shares that differ by one at most, the larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
