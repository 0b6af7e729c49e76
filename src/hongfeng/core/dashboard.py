"""The home page's cards: for each thing the user is responsible for, the real counts, each
linking to the records behind it (ui.md).

The cards come from the apps (registry.card_providers, by order): the activities app's "my
service" card, the accounts app's platform card and one card per role assignment, … A card may
carry numbers from other apps: its provider asks `contributed_stats(card, user, subject)`
(registry.card_stats), so the unit card drawn by accounts shows the members app's count of
serving members without accounts importing members."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache

from hongfeng.core import registry
from hongfeng.core.pagination import LARGE_COUNT, LARGE_COUNT_SECONDS


@dataclass
class Stat:
    label: str
    value: int | str
    unit: str
    url: str
    # Counted over many rows (member files): a card showing such a number at LARGE_COUNT or
    # more is kept for LARGE_COUNT_SECONDS (`kept_card`).
    costly: bool = False


@dataclass
class Card:
    title: str
    subtitle: str
    url: str | None = None
    stats: list[Stat] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)  # (role label, name)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (when, what, url)
    note: str = ""
    # (what is wrong, what to do, url or "") — rules of the standard not met, shown in orange
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def cards_for(user) -> list[Card]:
    """Every card of every provider, in the providers' order."""
    cards: list[Card] = []
    for provider in registry.card_providers:
        cards.extend(provider.cards(user))
    return cards


def contributed_stats(card: str, user, subject) -> list[Stat]:
    """The numbers other apps add to a card of kind `card` about `subject`, in their order."""
    stats: list[Stat] = []
    for contribution in registry.card_stats:
        if contribution.card == card:
            stats.extend(contribution.stats(user, subject))
    return stats


def kept_card(key: str, build: Callable[[], Card]) -> Card:
    """The card `build()` draws, kept under `key` for LARGE_COUNT_SECONDS per app server process
    when one of its costly numbers reached LARGE_COUNT (the rule of core.pagination.count_of):
    at province scale counting the serving members and the distinct role holders took ≈ 0.4 s of
    database time per view (`python -m bench`). Smaller cards are always fresh — a captain sees
    the member they just added counted at once."""
    card = cache.get(key)
    if card is None:
        card = build()
        if any(
            s.costly and isinstance(s.value, int) and s.value >= LARGE_COUNT for s in card.stats
        ):
            card.note = f"范围较大，统计数每 {LARGE_COUNT_SECONDS} 秒更新一次。"
            cache.set(key, card, LARGE_COUNT_SECONDS)
    return card
