"""荣誉与证书 and 警告记录 on the member file (一人一档, 5.2.7; honours and warnings 5.2.10),
registered with hongfeng.core.member_file from HonoursConfig.ready()."""

from hongfeng.accounts import access
from hongfeng.core import member_file
from hongfeng.honours import selectors

SHOWN = 20


def _sees(viewer, member, capability: str) -> bool:
    """The member themself, or whoever holds the capability over the member's unit — the
    same reach as the honours selectors (and the API)."""
    return member.user_id == viewer.pk or access.can(viewer, capability, member.unit)


def honours_section(*, member, viewer) -> dict | None:
    """Honour titles granted and certificates issued (latest first). Two queries."""
    if not _sees(viewer, member, "honours.grant"):
        return None
    return {
        "grants": list(selectors.grants_for(viewer, member=member)[:SHOWN]),
        "certificates": list(selectors.certificates_for(viewer, member=member)[:SHOWN]),
        "own": member.user_id == viewer.pk,
    }


def warnings_section(*, member, viewer) -> dict | None:
    """Warnings for violations, with the points they cost. One query."""
    if not _sees(viewer, member, "violations.warn"):
        return None
    return {"warnings": list(selectors.warnings_for(viewer, member=member)[:SHOWN])}


def register() -> None:
    member_file.register_section(
        "honours",
        order=20,
        title="荣誉与证书",
        provider=honours_section,
        template="honours/_file_honours.html",
        pdf_template="honours/_file_honours_pdf.html",
    )
    member_file.register_section(
        "warnings",
        order=30,
        title="警告记录",
        provider=warnings_section,
        template="honours/_file_warnings.html",
        pdf_template="honours/_file_warnings_pdf.html",
    )
