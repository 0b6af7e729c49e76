"""积分与等级 on the member file (一人一档, 5.2.7; levels 7.2.2), registered with
hongfeng.core.member_file from PointsConfig.ready()."""

from hongfeng.core import member_file
from hongfeng.points.selectors import entries_of, summary

RECENT = 5


def points_section(*, member, viewer) -> dict:
    """Level, points earned and the balance left after redemptions, and the latest entries.
    Whoever may see the file may see its points (as GET /members/{id}/points). Two queries."""
    return {"summary": summary(member), "entries": list(entries_of(member)[:RECENT])}


def register() -> None:
    member_file.register_section(
        "points",
        order=10,
        title="积分与等级",
        provider=points_section,
        template="points/_file_section.html",
        pdf_template="points/_file_section_pdf.html",
    )
