"""The points app's number on a team's home card (registered in points.registrations)."""

from django.urls import reverse

from hongfeng.core.dashboard import Stat
from hongfeng.orgs.models import TEAM_KINDS
from hongfeng.points.selectors import latest_published_rating


def team_star_stats(user, summary) -> list[Stat]:
    """The team's latest published star rating (7.2.3), for everyone on the team's home."""
    unit = summary.unit
    if unit.kind not in TEAM_KINDS:
        return []
    rating = latest_published_rating(unit.team_id_or_self)
    if rating is None:
        return []
    url = reverse("public:rating", args=[rating.run_id])
    return [Stat(f"{rating.run.year} 年度星级", rating.star_text or "未上榜", "", url)]
