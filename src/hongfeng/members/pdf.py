"""The member file as a PDF (一人一档, for the paper archive offices still keep): WeasyPrint
with the Noto CJK fonts; personal data masked unless the file is the reader's own; every page
carries who printed it and when."""

from django.template.loader import render_to_string
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities.selectors import service_record
from hongfeng.audit.services import record_event
from hongfeng.core import member_file
from hongfeng.core.errors import Forbidden
from hongfeng.members.models import Member
from hongfeng.members.selectors import position_label


def member_file_pdf(*, actor, member: Member) -> bytes:
    """Render one member file; audited like an export (security.md)."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s at start-up

    own = member.user_id == actor.pk
    if not own and not access.can(actor, "members.view", member.unit):
        raise Forbidden("您无权导出该队员档案。")
    today = timezone.localdate()
    html = render_to_string(
        "members/file_pdf.html",
        {
            "member": member,
            "own": own,
            "position": position_label(member),
            "age": member.age_on(today),
            "skills": member.skills.all(),
            "certificates": member.certificates.all(),
            "insurances": member.insurances.all(),
            "equipment": member.equipment.all(),
            "history": member.status_changes.select_related("changed_by")[:30],
            "service": service_record(member),
            "file_sections": member_file.render_sections(member=member, viewer=actor, pdf=True),
            "printed_by": actor.name,
            "printed_at": timezone.localtime(),
            "today": today,
        },
    )
    pdf = HTML(string=html).write_pdf()
    record_event(
        action="member.pdf_exported",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"own": own},
    )
    return pdf
