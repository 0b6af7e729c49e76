"""Member files (一人一档, 5.2.7): registering a member, editing the file, dynamic status
(5.2.7), the 1+1 partner (5.4.6), certificates, insurance and equipment, and the audited
reveal of masked personal data (security.md)."""

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import THREE_POWERS, Role, RoleAssignment, User, validate_mobile
from hongfeng.audit.services import record_event
from hongfeng.core import crypto
from hongfeng.core.errors import Conflict, DomainError, Forbidden, check_version
from hongfeng.core.idnumber import parse_id_number
from hongfeng.core.pinyin import pinyin_of
from hongfeng.core.workbooks import looks_like_formula
from hongfeng.members.models import (
    Category,
    Certificate,
    Consent,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
    MemberStatus,
    PoliticalStatus,
    Skill,
    StatusChange,
)
from hongfeng.orgs.models import TEAM_KINDS, Unit

# 5.4.6 *Decision*: a new member is paired with a veteran during their first six months.
ID_INDEX = "members.id_number"


def clean_person_name(raw: str | None, *, field_name: str = "name") -> str:
    """A real name (5.2.2 实名登记): spaces removed, at most 30 characters, no digits, and not
    starting like a spreadsheet formula (= + - @), which would be a live formula in exports."""
    name = "".join((raw or "").split())
    if not name:
        raise DomainError("请填写真实姓名。", code="name_required", field=field_name)
    if looks_like_formula(name):
        raise DomainError("姓名不能以 =、+、-、@ 开头。", code="invalid_name", field=field_name)
    if len(name) > 30 or any(ch.isdigit() for ch in name):
        raise DomainError(
            "姓名应为真实姓名（不超过30个字，不含数字）。", code="invalid_name", field=field_name
        )
    return name


def id_number_index(number: str) -> str:
    return crypto.blind_index(number, purpose=ID_INDEX)


def find_member_by_id_number(number: str) -> Member | None:
    """Exact lookup through the blind index (duplicate detection; never exposed as a search)."""
    return Member.objects.filter(id_number_index=id_number_index(number)).first()


# *Decision*: volunteers are adults (the charter's joining condition; data about children is
# sensitive and they are not sent on patrols).
MIN_AGE = 18


def check_age(born: date, *, field_name: str = "id_number") -> None:
    today = timezone.localdate()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MIN_AGE:
        raise DomainError(f"义警须年满{MIN_AGE}周岁。", code="too_young", field=field_name)


# *Decision* (issue 15, item 3.2): the standard sets no joining age; a joining date before the
# member turned 16 is taken for a typing error. (Registering today still needs MIN_AGE.)
MIN_JOINING_AGE = 16


def turned(born: date, years: int) -> date:
    """The day someone born on `born` turns `years` (29 February → 1 March in common years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def check_joined_on(joined_on: date, born: date | None, *, field_name: str = "joined_on") -> None:
    """An impossible joining date (5.2.7 一人一档 must be true): not after today, and not before
    the member turned MIN_JOINING_AGE. Registration, the API, the page form and the roster
    import all call this one rule."""
    today = timezone.localdate()
    if joined_on > today:
        raise DomainError(
            f"入队日期（{joined_on:%Y-%m-%d}）不能晚于今天。",
            code="invalid_joined_on",
            field=field_name,
        )
    if born is not None and joined_on < turned(born, MIN_JOINING_AGE):
        raise DomainError(
            f"入队日期（{joined_on:%Y-%m-%d}）早于该队员年满{MIN_JOINING_AGE}周岁的日子"
            f"（{turned(born, MIN_JOINING_AGE):%Y-%m-%d}），请核对。",
            code="invalid_joined_on",
            field=field_name,
        )


def attachable_account(mobile: str, name: str) -> User | None:
    """The existing account a new member file may belong to, or None for a new account. A
    number that already has a member file, an account under another name, or an account of the
    three powers is refused: registration never attaches a person to someone else's account."""
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        return None
    if Member.objects.filter(user=user).exists():
        raise Conflict("该手机号已属于另一名队员。", code="duplicate_mobile", field="mobile")
    if user.name != name:
        raise Conflict(
            "该手机号已注册账号，但姓名与之不一致。", code="mobile_taken", field="mobile"
        )
    if RoleAssignment.objects.active().filter(user=user, role__in=THREE_POWERS).exists():
        raise Conflict(
            "三权分立：系统管理员、安全管理员、审计员的账号不能登记为队员。",
            code="three_powers_conflict",
            field="mobile",
        )
    return user


@dataclass
class MemberData:
    """What a member file holds besides the identity fields (validated by the services)."""

    address: str = ""
    emergency_contact: str = ""
    emergency_mobile: str = ""
    health_fit: bool = True
    health_declaration: str = ""
    political_status: str = PoliticalStatus.MASSES
    category: str = Category.OTHER
    skills: list[str] = field(default_factory=list)  # skill codes


def _check_unit(unit: Unit) -> Unit:
    if unit.kind not in TEAM_KINDS:
        raise DomainError("队员只能编入总队、分队或小组。", code="invalid_unit", field="unit")
    if unit.is_archived:
        raise DomainError("该单位已归档，不能编入队员。", code="unit_archived", field="unit")
    return unit


def _clean_data(data: MemberData) -> MemberData:
    if data.political_status not in PoliticalStatus.values:
        raise DomainError("未知的政治面貌。", code="invalid_choice", field="political_status")
    if data.category not in Category.values:
        raise DomainError("未知的人员类别。", code="invalid_choice", field="category")
    if data.emergency_mobile:
        data.emergency_mobile = validate_mobile(data.emergency_mobile, field="emergency_mobile")
    for name, limit in (("address", 200), ("emergency_contact", 50), ("health_declaration", 1000)):
        value = " ".join((getattr(data, name) or "").split())
        if len(value) > limit:
            raise DomainError(f"内容过长（最多{limit}字）。", code="too_long", field=name)
        setattr(data, name, value)
    known = set(Skill.objects.filter(code__in=data.skills).values_list("code", flat=True))
    unknown = [s for s in data.skills if s not in known]
    if unknown:
        raise DomainError(
            f"未知的技能：{'、'.join(unknown)}。", code="unknown_skill", field="skills"
        )
    return data


@transaction.atomic
def register_member(
    *,
    actor,
    unit: Unit,
    name: str,
    id_number: str,
    mobile: str,
    joined_on: date | None = None,
    data: MemberData | None = None,
    status: str = MemberStatus.PROBATION,
    reason: str = "登记入队",
    consent_version: str | None = None,
) -> Member:
    """实名登记 (5.2.2): open a member file and an account (the mobile number is the login)
    with the 队员 role in `unit`. The same person (ID number) or the same mobile twice is a
    conflict; nothing is half-created."""
    access.require(actor, "members.manage", unit, "您无权在该单位登记队员。")
    unit = _check_unit(unit)
    name = clean_person_name(name)
    info = parse_id_number(id_number)
    mobile = validate_mobile(mobile)
    data = _clean_data(data or MemberData())
    if find_member_by_id_number(info.number) is not None:
        raise Conflict(
            "该身份证号已有队员档案（同一人不能重复登记）。",
            code="duplicate_person",
            field="id_number",
        )
    check_age(info.birth_date)
    if joined_on is not None:
        check_joined_on(joined_on, info.birth_date)
    user = attachable_account(mobile, name)
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(mobile=mobile, name=name, password=None)
        except IntegrityError:  # registered a moment ago by someone else
            raise Conflict(
                "该手机号刚刚被登记，请刷新后重试。", code="duplicate_mobile", field="mobile"
            ) from None
    pinyin, initials = pinyin_of(name)
    now = timezone.now()
    member = Member(
        user=user,
        unit=unit,
        name=name,
        name_pinyin=pinyin,
        name_initials=initials,
        id_number_encrypted=crypto.encrypt(info.number, field=ID_INDEX),
        id_number_index=id_number_index(info.number),
        id_last4=info.number[-4:],
        birth_date=info.birth_date,
        gender=info.gender,
        address=data.address,
        emergency_contact=data.emergency_contact,
        emergency_mobile=data.emergency_mobile,
        health_fit=data.health_fit,
        health_declaration_encrypted=crypto.encrypt(
            data.health_declaration, field="members.health"
        ),
        political_status=data.political_status,
        category=data.category,
        status=status,
        status_changed_at=now,
        joined_on=joined_on or timezone.localdate(),
    )
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise Conflict("该队员已登记。", code="duplicate_person", field="id_number") from None
    member.skills.set(Skill.objects.filter(code__in=data.skills))
    StatusChange.objects.create(
        member=member,
        from_status="",
        to_status=status,
        reason=reason,
        changed_by=actor,
        changed_at=now,
    )
    team = unit if unit.kind == "team" else unit.team
    # Leaders already hold their role in the team; everyone else becomes a 队员 of the unit.
    in_team = RoleAssignment.objects.active().filter(user=user, unit__path__startswith=team.path)
    if not in_team.exists():
        RoleAssignment.objects.create(user=user, role=Role.VOLUNTEER, unit=unit, granted_by=actor)
    if consent_version:
        record_consent(user=user, kind="privacy", text_version=consent_version)
    record_event(
        action="member.registered",
        actor=actor,
        target=member,
        unit=unit,
        summary={"status": status, "unit": unit.pk},
    )
    return member


def _bump(member: Member, **changes) -> Member:
    """Conditional update on the version: a stale edit gets 409, never a silent overwrite."""
    updated = Member.objects.filter(pk=member.pk, version=member.version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if not updated:
        raise Conflict("该档案已被他人修改，请刷新后重试。", code="stale_version", field="version")
    member.refresh_from_db()
    return member


def current_data(member: Member) -> dict:
    """The editable part of a file as MemberData fields."""
    return {
        "address": member.address,
        "emergency_contact": member.emergency_contact,
        "emergency_mobile": member.emergency_mobile,
        "health_fit": member.health_fit,
        "health_declaration": member.health_declaration,
        "political_status": member.political_status,
        "category": member.category,
        "skills": list(member.skills.values_list("code", flat=True)),
    }


def _changed(member: Member, data: MemberData) -> dict:
    """Which plain fields differ (names only: the audit summary never holds the values)."""
    names = (
        "address",
        "emergency_contact",
        "emergency_mobile",
        "health_fit",
        "political_status",
        "category",
    )
    return {n: getattr(data, n) for n in names if getattr(member, n) != getattr(data, n)}


@transaction.atomic
def update_member(
    *, actor, member: Member, changes: dict, expected_version: int | None = None
) -> Member:
    """Edit a member file: only the fields in `changes` (a partial update — a field the editor
    could not see is never wiped). Not the identity: name and ID number come from 实名登记. The
    health declaration is sensitive: only the member or someone who may reveal it changes it."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权修改该队员档案。")
    check_version(member, expected_version)
    unknown = set(changes) - set(MemberData.__dataclass_fields__)
    if unknown:
        raise DomainError("不能修改这些字段：" + "、".join(sorted(unknown)), code="invalid_field")
    if "health_declaration" in changes and member.user_id != actor.pk:
        access.require(actor, "members.reveal", member.unit, "您无权修改健康声明。")
    data = _clean_data(MemberData(**{**current_data(member), **changes}))
    changes = _changed(member, data)
    health = crypto.encrypt(data.health_declaration, field="members.health")
    health_changed = data.health_declaration != member.health_declaration
    if health_changed:
        changes["health_declaration_encrypted"] = health
    skills_before = set(member.skills.values_list("code", flat=True))
    skills_changed = skills_before != set(data.skills)
    if not changes and not skills_changed:
        return member
    member = _bump(member, **changes)
    if skills_changed:
        member.skills.set(Skill.objects.filter(code__in=data.skills))
    fields = sorted(k.replace("_encrypted", "") for k in changes)
    record_event(
        action="member.updated",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"fields": fields + (["skills"] if skills_changed else [])},
    )
    return member


@transaction.atomic
def update_own_contact(
    *, user, address: str, emergency_contact: str, emergency_mobile: str
) -> Member:
    """A volunteer corrects their own contact data on "my profile"; audited."""
    member = Member.objects.select_for_update().filter(user=user).first()
    if member is None:
        raise DomainError("您还没有队员档案。", code="no_member_file")
    data = MemberData(
        address=address,
        emergency_contact=emergency_contact,
        emergency_mobile=emergency_mobile,
        health_fit=member.health_fit,
        political_status=member.political_status,
        category=member.category,
        health_declaration=member.health_declaration,
        skills=list(member.skills.values_list("code", flat=True)),
    )
    data = _clean_data(data)
    changes = {
        n: getattr(data, n)
        for n in ("address", "emergency_contact", "emergency_mobile")
        if getattr(member, n) != getattr(data, n)
    }
    if not changes:
        return member
    member = _bump(member, **changes)
    record_event(
        action="member.contact_updated",
        actor=user,
        target=member,
        unit=member.unit,
        summary={"fields": sorted(changes)},
    )
    return member


def _end_team_roles(member: Member, *, actor, reason: str) -> int:
    """On exit or suspension the member's roles in the team end (the rows stay as history)."""
    team = member.unit if member.unit.kind == "team" else member.unit.team
    return (
        RoleAssignment.objects.active()
        .filter(user=member.user, unit__path__startswith=team.path)
        .update(revoked_at=timezone.now(), revoked_by=actor, revoke_reason=reason[:200])
    )


@transaction.atomic
def change_status(*, actor, member: Member, to: str, reason: str) -> Member:
    """Dynamic management (5.2.7): move a member to another status along STATUS_FLOW, with a
    reason; the change is a new history row. Exit ends the member's roles in the team; nothing
    is deleted, and the person may come back through a new application."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权变更该队员的状态。")
    if member.user_id == actor.pk:
        raise Forbidden("不能变更自己的状态。")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("请填写变更原因。", code="reason_required", field="reason")
    if len(reason) > 200:
        raise DomainError("原因不能超过200字。", code="too_long", field="reason")
    if to not in MemberStatus.values:
        raise DomainError("未知的状态。", code="invalid_status", field="status")
    if not member.can_become(to):
        raise DomainError(
            f"不能从「{MemberStatus(member.status).label}」直接变为「{MemberStatus(to).label}」。",
            code="invalid_transition",
            field="status",
        )
    now = timezone.now()
    StatusChange.objects.create(
        member=member,
        from_status=member.status,
        to_status=to,
        reason=reason,
        changed_by=actor,
        changed_at=now,
    )
    before = member.status
    member = _bump(member, status=to, status_changed_at=now)
    # Suspension and exit end the member's roles in the team (a suspended captain leads no
    # one); coming back from a suspension restores the 队员 role — leader roles are granted
    # again by whoever grants them.
    ended = (
        _end_team_roles(member, actor=actor, reason=reason)
        if to in (MemberStatus.SUSPENDED, MemberStatus.EXITED)
        else 0
    )
    if before == MemberStatus.SUSPENDED and to != MemberStatus.EXITED:
        RoleAssignment.objects.create(
            user=member.user, role=Role.VOLUNTEER, unit=member.unit, granted_by=actor
        )
    record_event(
        action="member.status_changed",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"from": before, "to": to, "reason": reason, "roles_ended": ended},
    )
    return member


@transaction.atomic
def set_partner(*, actor, member: Member, partner: Member | None) -> Member:
    """1+1 pairing (5.4.6): a new member (first six months) with a veteran of the same team."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权为该队员安排结对。")
    if partner is None:
        member = _bump(member, partner=None, partnered_on=None)
    else:
        if partner.pk == member.pk:
            raise DomainError("不能与自己结对。", code="invalid_partner", field="partner")
        if _team_of(partner) != _team_of(member):
            raise DomainError("结对的老队员须在同一总队。", code="invalid_partner", field="partner")
        today = timezone.localdate()
        if not partner.can_partner_on(today):
            raise DomainError(
                "结对人须是入队满6个月的在队或核心队员。", code="invalid_partner", field="partner"
            )
        member = _bump(member, partner=partner, partnered_on=today)
    record_event(
        action="member.partnered",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"partner": partner.pk if partner else None},
    )
    return member


def _team_of(member: Member) -> int:
    return member.unit.team_id_or_self


REVEALABLE = {"id_number": "身份证号", "mobile": "手机号", "health_declaration": "健康声明"}


@transaction.atomic
def reveal(*, actor, member: Member, field_name: str, reason: str) -> str:
    """Show one masked value in clear: needs the reveal permission over the member's unit and a
    reason, and leaves an audit event (security.md). The owner never needs this."""
    if field_name not in REVEALABLE:
        raise DomainError("不能查看该字段。", code="invalid_field", field="field")
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise DomainError("请写明查看原因（至少4个字）。", code="reason_required", field="reason")
    if len(reason) > 200:
        raise DomainError("原因不能超过200字。", code="too_long", field="reason")
    if member.user_id != actor.pk:
        access.require(actor, "members.reveal", member.unit, "您无权查看该队员的明文信息。")
    value = member.user.mobile if field_name == "mobile" else getattr(member, field_name)
    record_event(
        action="member.revealed",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"field": field_name, "reason": reason},
    )
    return value


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
    member = _bump(member, pre_job_training_on=completed_on)
    record_event(
        action="member.pre_job_training",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"completed_on": completed_on.isoformat() if completed_on else None},
    )
    return member


def record_consent(*, user, kind: str, text_version: str):
    """PIPL: which text was agreed to, and when."""
    return Consent.objects.create(
        user=user, kind=kind, text_version=text_version, consented_at=timezone.now()
    )


@transaction.atomic
def set_photo(*, actor, member: Member, content: bytes) -> Member:
    """Replace a member's photo (the member or a keeper). The upload is re-encoded; the old file
    is removed once the change has committed."""
    from hongfeng.members import photos

    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.user_id != actor.pk:
        access.require(actor, "members.manage", member.unit, "您无权修改该队员的照片。")
    name = photos.store(photos.reencode(content))
    old = member.photo
    member = _bump(member, photo=name)
    transaction.on_commit(lambda: photos.delete(old))
    record_event(action="member.photo_updated", actor=actor, target=member, unit=member.unit)
    return member


@transaction.atomic
def move_member(*, actor, member: Member, unit: Unit) -> Member:
    """Move a member to another squad or group of the same team; their 队员 role follows."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    access.require(actor, "members.manage", member.unit, "您无权调整该队员。")
    access.require(actor, "members.manage", unit, "您无权把队员调入该单位。")
    unit = _check_unit(unit)
    if unit.team_id_or_self != member.unit.team_id_or_self:
        raise DomainError(
            "只能在同一总队内调整；跨队请办理退出后重新申请。", code="invalid_unit", field="unit"
        )
    if unit.pk == member.unit_id:
        return member
    before = member.unit
    member = _bump(member, unit=unit)
    # Role rows are history: the old one ends, a new one begins.
    moved = (
        RoleAssignment.objects.active()
        .filter(user=member.user, role=Role.VOLUNTEER, unit=before)
        .update(revoked_at=timezone.now(), revoked_by=actor, revoke_reason=f"调整到{unit.name}")
    )
    if moved:
        RoleAssignment.objects.create(
            user=member.user, role=Role.VOLUNTEER, unit=unit, granted_by=actor
        )
    record_event(
        action="member.moved",
        actor=actor,
        target=member,
        unit=unit,
        summary={"from": before.pk, "to": unit.pk, "from_name": before.name, "to_name": unit.name},
    )
    return member
