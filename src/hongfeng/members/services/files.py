"""Member files (一人一档, 5.2.7): registering a member (实名登记) and editing the file — by a
keeper, by the member (contact data, photo). The identity rules are in identity.py; status,
partner and moves in membership.py; certificates, insurance, equipment and pre-job training in
records.py; the audited reveal and consents in privacy.py."""

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import Role, RoleAssignment, User, validate_mobile
from hongfeng.audit.services import record_event
from hongfeng.core import crypto
from hongfeng.core.errors import Conflict, DomainError, check_version
from hongfeng.core.idnumber import IdInfo, parse_id_number
from hongfeng.core.pinyin import pinyin_of
from hongfeng.members.models import (
    Category,
    Member,
    MemberStatus,
    PoliticalStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.services.identity import (
    ID_INDEX,
    attachable_account,
    check_age,
    check_joined_on,
    clean_person_name,
    find_member_by_id_number,
    id_number_index,
)
from hongfeng.members.services.privacy import record_consent
from hongfeng.orgs.models import TEAM_KINDS, Unit


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


def placeable_unit(unit: Unit) -> Unit:
    """`unit` if a member may be placed in it: a team, squad or group, not archived."""
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
    unit = placeable_unit(unit)
    name = clean_person_name(name)
    info = parse_id_number(id_number)
    mobile = validate_mobile(mobile)
    data = _clean_data(data or MemberData())
    _check_new_person(info, joined_on)
    user = _account_for(mobile, name)
    member = _open_file(user, unit, name, info, data, status=status, joined_on=joined_on)
    member.skills.set(Skill.objects.filter(code__in=data.skills))
    StatusChange.objects.create(
        member=member,
        from_status="",
        to_status=status,
        reason=reason,
        changed_by=actor,
        changed_at=member.status_changed_at,
    )
    _join_team(member, actor=actor)
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


def _check_new_person(info: IdInfo, joined_on: date | None) -> None:
    """One file per person, an adult, and a joining date that can be true."""
    if find_member_by_id_number(info.number) is not None:
        raise Conflict(
            "该身份证号已有队员档案（同一人不能重复登记）。",
            code="duplicate_person",
            field="id_number",
        )
    check_age(info.birth_date)
    if joined_on is not None:
        check_joined_on(joined_on, info.birth_date)


def _account_for(mobile: str, name: str) -> User:
    """The person's existing account (see attachable_account), or a new one without a
    password (they activate it by SMS)."""
    user = attachable_account(mobile, name)
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(mobile=mobile, name=name, password=None)
    except IntegrityError:  # registered a moment ago by someone else
        raise Conflict(
            "该手机号刚刚被登记，请刷新后重试。", code="duplicate_mobile", field="mobile"
        ) from None


def _open_file(
    user: User,
    unit: Unit,
    name: str,
    info: IdInfo,
    data: MemberData,
    *,
    status: str,
    joined_on: date | None,
) -> Member:
    """The member file row: the ID number and the health declaration encrypted, the name's
    pinyin for search."""
    pinyin, initials = pinyin_of(name)
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
        status_changed_at=timezone.now(),
        joined_on=joined_on or timezone.localdate(),
    )
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise Conflict("该队员已登记。", code="duplicate_person", field="id_number") from None
    return member


def _join_team(member: Member, *, actor) -> None:
    """Leaders already hold their role in the team; everyone else becomes a 队员 of the unit."""
    unit = member.unit
    team = unit if unit.kind == "team" else unit.team
    in_team = RoleAssignment.objects.active().filter(
        user=member.user, unit__path__startswith=team.path
    )
    if not in_team.exists():
        RoleAssignment.objects.create(
            user=member.user, role=Role.VOLUNTEER, unit=unit, granted_by=actor
        )


def bump_member(member: Member, **changes) -> Member:
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
    member = bump_member(member, **changes)
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
    """A volunteer corrects their own contact data on 我的档案 (their member file); audited."""
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
    member = bump_member(member, **changes)
    record_event(
        action="member.contact_updated",
        actor=user,
        target=member,
        unit=member.unit,
        summary={"fields": sorted(changes)},
    )
    return member


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
    member = bump_member(member, photo=name)
    transaction.on_commit(lambda: photos.delete(old))
    record_event(action="member.photo_updated", actor=actor, target=member, unit=member.unit)
    return member
