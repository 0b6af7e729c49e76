"""Annual team star rating (7.2.3), as pure functions over the yearly team points.

Ranking is standard competition ranking (1, 2, 2, 4): tied teams share the best rank, so a tie
across a tier boundary gives all of them the better tier (*Decision* in requirements.md).
Tiers: ranks 1–5 ★★★, 6–10 ★★, 11–20 ★. ★★★ in the two years before as well → ★★★★★; in the
year before only → ★★★★. *Decision*: a team without any points that year gets no star."""

from decimal import Decimal

TIERS = [(5, 3), (10, 2), (20, 1)]  # (last rank, stars)


def competition_ranks(points: dict[int, Decimal]) -> dict[int, int]:
    """{team: points} → {team: rank}, ties sharing the best rank (1, 2, 2, 4)."""
    ordered = sorted(points.items(), key=lambda item: (-item[1], item[0]))
    ranks: dict[int, int] = {}
    previous, rank = None, 0
    for position, (team, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[team] = rank
    return ranks


def base_stars(rank: int, points: Decimal) -> int:
    """The tier a rank earns on its own (before the consecutive-year promotion)."""
    if points <= 0:
        return 0
    for last, stars in TIERS:
        if rank <= last:
            return stars
    return 0


def tiers(points: dict[int, Decimal]) -> dict[int, tuple[int, int]]:
    """{team: (rank, base stars)} for one year."""
    ranks = competition_ranks(points)
    return {team: (ranks[team], base_stars(ranks[team], points[team])) for team in points}


def final_stars(base: int, top_last_year: bool, top_two_years_ago: bool) -> int:
    """★★★ this year and last → ★★★★; and the year before that too → ★★★★★."""
    if base < 3 or not top_last_year:
        return base
    return 5 if top_two_years_ago else 4
