"""What a member file records beside the person (5.2.7): professional certificates, accident
insurance (5.4.3), issued equipment (6.1.3) and pre-job training (5.3.1) — each audited."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError
from hongfeng.members.models import (
    Certificate,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
)
from hongfeng.members.services.files import bump_member


def _check_dates(first: date | None, last: date | None, message: str, field_name: str) -> None:
    if first and last and last < first:
        raise DomainError(message, code="invalid_dates", field=field_name)


def _text(value: str, limit: int, field_name: str, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise DomainError("此项必填。", code="required", field=field_name)
    if len(value) > limit:
        raise DomainError(f"不能超过{limit}字。", code="too_long", field=field_name)
    return value


@transaction.atomic
def add_certificate(
    *,
    actor,
    member: Member,
    name: str,
    issuer: str,
    number: str = "",
    issued_on: date | None = None,
    expires_on: date | None = None,
):
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    _check_dates(issued_on, expires_on, "有效期不能早于发证日期。", "expires_on")
    certificate = Certificate.objects.create(
        member=member,
        name=_text(name, 80, "name"),
        issuer=_text(issuer, 80, "issuer"),
        number=_text(number, 60, "number", required=False),
        issued_on=issued_on,
        expires_on=expires_on,
    )
    record_event(
        action="member.certificate_added",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"certificate": certificate.name},
    )
    return certificate


@transaction.atomic
def remove_certificate(*, actor, certificate) -> None:
    member = certificate.member
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    name = certificate.name
    certificate.delete()
    record_event(
        action="member.certificate_removed",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"certificate": name},
    )


@transaction.atomic
def add_insurance(
    *, actor, member: Member, insurer: str, policy_number: str, starts_on: date, ends_on: date
):
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    _check_dates(starts_on, ends_on, "终止日期不能早于起保日期。", "ends_on")
    policy = InsurancePolicy.objects.create(
        member=member,
        insurer=_text(insurer, 80, "insurer"),
        policy_number=_text(policy_number, 60, "policy_number"),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    record_event(
        action="member.insurance_added",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"ends_on": ends_on.isoformat()},
    )
    return policy


@transaction.atomic
def issue_equipment(*, actor, member: Member, kind: str, issued_on: date, description: str = ""):
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    if kind not in EquipmentKind.values:
        raise DomainError("未知的装备类型。", code="invalid_choice", field="kind")
    issue = EquipmentIssue.objects.create(
        member=member,
        kind=kind,
        issued_on=issued_on,
        description=_text(description, 80, "description", required=False),
    )
    record_event(
        action="member.equipment_issued",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"kind": kind},
    )
    return issue


@transaction.atomic
def return_equipment(*, actor, issue, returned_on: date):
    member = issue.member
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    if issue.returned_on is not None:
        raise DomainError("该装备已归还。", code="already_returned")
    _check_dates(issue.issued_on, returned_on, "归还日期不能早于发放日期。", "returned_on")
    issue.returned_on = returned_on
    issue.save(update_fields=["returned_on"])
    record_event(
        action="member.equipment_returned",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"kind": issue.kind},
    )
    return issue


@transaction.atomic
def record_pre_job_training(*, actor, member: Member, completed_on: date | None) -> Member:
    """5.3.1: mark (or clear, with None) the completion of pre-job training — until the training
    issue derives it from attended sessions. No tasks before it (activity eligibility)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    if completed_on is not None and completed_on > timezone.localdate():
        raise DomainError("完成日期不能晚于今天。", code="date_in_future", field="completed_on")
    if completed_on is not None and completed_on < member.birth_date:
        raise DomainError("完成日期不合理。", code="invalid_date", field="completed_on")
    if member.pre_job_training_on == completed_on:
        return member
    member = bump_member(member, pre_job_training_on=completed_on)
    record_event(
        action="member.pre_job_training",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"completed_on": completed_on.isoformat() if completed_on else None},
    )
    return member
