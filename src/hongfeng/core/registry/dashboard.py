"""Home cards (hongfeng.core.dashboard): each app provides the cards it knows about, and may
add numbers to a card another app draws.

- A card provider `cards(user) -> list[Card]` returns zero or more cards; the home page shows
  the providers' cards by `order`.
- A card's stats can come from several apps: the card's provider calls
  `hongfeng.core.dashboard.contributed_stats(card, user, subject)`, which asks every
  registered `CardStats` for that card, by `order`, for its `Stat`s about `subject` (a unit
  card's subject is the role assignment it is drawn for). That is how the members app counts
  the serving members on a unit card that the accounts app draws, without accounts importing
  members.
"""

from collections.abc import Callable
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, by_order


@dataclass(frozen=True)
class CardProvider:
    key: str
    order: int
    cards: Callable[..., list]  # cards(user) -> list[Card]


@dataclass(frozen=True)
class CardStats:
    card: str  # the kind of card, as its provider names it: "unit", "platform"
    key: str
    order: int
    stats: Callable[..., list]  # stats(user, subject) -> list[Stat]


card_providers: Registry[CardProvider] = Registry(
    "home card providers", key=lambda p: p.key, sort=by_order
)
card_stats: Registry[CardStats] = Registry(
    "home card stats", key=lambda s: (s.card, s.key), sort=by_order
)
