"""Member files over the API (一人一档). Fields by role (security.md T3): ID numbers and mobiles
are masked for everyone but the file's owner; address and emergency contact go to the people
who keep the file; the health declaration only to the owner — anyone else uses the audited
reveal."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.activities.selectors import service_record
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.masking import mask_mobile
from hongfeng.core.pagination import IdsFirstPagination
from hongfeng.core.registry import ApiRouter
from hongfeng.core.uploads import check_upload_size
from hongfeng.members import photos, selectors, services
from hongfeng.members.models import (
    Category,
    EquipmentKind,
    Member,
    MemberStatus,
    PoliticalStatus,
)
from hongfeng.orgs.api import ERRORS, UnitRef
from hongfeng.points.selectors import summary as points_summary

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
router = Router()
TAGS = ("队员档案",)
API_ROUTERS = [
    ApiRouter("/members", router, TAGS),
]


class SkillOut(Schema):
    code: str
    name: str


class MemberListItem(Schema):
    id: int
    name: str
    gender: str
    age: int
    unit: UnitRef
    position: str = Field(..., description="总队长 / 分队长 / 小组长 / 队员（由角色授权得出）")
    status: MemberStatus
    status_label: str
    category: Category
    political_status: PoliticalStatus
    is_party_member: bool
    skills: list[SkillOut]
    mobile: str = Field(..., description="手机号；仅本人可见明文，其他人为脱敏值")
    id_number: str = Field(..., description="身份证号；仅本人可见明文，其他人为脱敏值")
    joined_on: date

    # Resolvers: the list endpoint returns model rows; the masking depends on who asks.
    @staticmethod
    def resolve_gender(obj) -> str:
        return obj.get_gender_display() if isinstance(obj, Member) else obj["gender"]

    @staticmethod
    def resolve_age(obj) -> int:
        return obj.age_on(timezone.localdate()) if isinstance(obj, Member) else obj["age"]

    @staticmethod
    def resolve_unit(obj):
        if not isinstance(obj, Member):
            return obj["unit"]
        return {"id": obj.unit.pk, "name": obj.unit.name, "kind": obj.unit.kind}

    @staticmethod
    def resolve_position(obj) -> str:
        return selectors.position_label(obj) if isinstance(obj, Member) else obj["position"]

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display() if isinstance(obj, Member) else obj["status_label"]

    @staticmethod
    def resolve_skills(obj):
        if not isinstance(obj, Member):
            return obj["skills"]
        return [{"code": s.code, "name": s.name} for s in obj.skills.all()]

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        if not isinstance(obj, Member):
            return obj["mobile"]
        own = obj.user_id == context["request"].user.pk
        return obj.user.mobile if own else mask_mobile(obj.user.mobile)

    @staticmethod
    def resolve_id_number(obj, context) -> str:
        if not isinstance(obj, Member):
            return obj["id_number"]
        own = obj.user_id == context["request"].user.pk
        return obj.id_number if own else obj.masked_id_number


class ProfessionalCertificateOut(Schema):
    id: int
    name: str
    issuer: str
    number: str
    issued_on: date | None
    expires_on: date | None


class InsuranceOut(Schema):
    id: int
    insurer: str
    policy_number: str
    starts_on: date
    ends_on: date


class EquipmentOut(Schema):
    id: int
    kind: EquipmentKind
    kind_label: str
    description: str
    issued_on: date
    returned_on: date | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: MemberStatus
    reason: str
    changed_by: str | None
    changed_at: datetime


class PartnerOut(Schema):
    id: int
    name: str
    partnered_on: date | None


class MemberDetail(MemberListItem):
    birth_date: date | None = Field(
        None, description="仅本人可见（与脱敏身份证号合在一起会泄露完整号码）"
    )
    address: str | None = Field(None, description="仅档案管理人与本人可见")
    emergency_contact: str | None = Field(None, description="仅档案管理人与本人可见")
    emergency_mobile: str | None = Field(None, description="仅档案管理人与本人可见（脱敏）")
    health_fit: bool
    health_declaration: str | None = Field(None, description="仅本人可见；他人需「查看明文」")
    partner: PartnerOut | None
    certificates: list[ProfessionalCertificateOut]
    insurances: list[InsuranceOut]
    equipment: list[EquipmentOut]
    history: list[StatusChangeOut]
    version: int
    has_photo: bool = Field(..., description="照片通过 /members/{id}/photo.jpg 页面地址获取")
    # Sections later issues fill: present so clients can rely on the shape; empty, not faked.
    pre_job_training_on: date | None = Field(None, description="岗前培训完成日期（5.3.1）")
    service_hours: Decimal = Field(..., description="累计服务时长（已评价活动的结算时长）")
    activity_count: int = Field(..., description="参加并结算时长的活动次数")
    points: Decimal = Field(..., description="累计获得积分（决定等级，7.2.2）")
    level_label: str = Field(..., description="等级（三级义警员 … 高级义警长）")


class MemberIn(Schema):
    address: Text = Field("", max_length=200)
    emergency_contact: Text = Field("", max_length=50)
    emergency_mobile: Text = Field("", max_length=30)
    health_fit: bool = True
    health_declaration: Text = Field("", max_length=1000)
    political_status: PoliticalStatus = PoliticalStatus.MASSES
    category: Category = Category.OTHER
    skills: list[Text] = Field(default_factory=list, max_length=30)


class RegisterIn(MemberIn):
    unit_id: Id
    name: Text = Field(..., max_length=30)
    id_number: Text = Field(..., max_length=30)
    mobile: Text = Field(..., max_length=30)
    joined_on: date | None = None
    consent: bool = Field(
        ..., description="已取得本人对《个人信息处理告知书》的同意（必须为 true）"
    )


class UpdateIn(Schema):
    """A partial update: fields left out stay as they are."""

    version: int = Field(..., ge=1)
    address: Text | None = Field(None, max_length=200)
    emergency_contact: Text | None = Field(None, max_length=50)
    emergency_mobile: Text | None = Field(None, max_length=30)
    health_fit: bool | None = None
    health_declaration: Text | None = Field(None, max_length=1000)
    political_status: PoliticalStatus | None = None
    category: Category | None = None
    skills: list[Text] | None = Field(None, max_length=30)


class ContactIn(Schema):
    address: Text = Field("", max_length=200)
    emergency_contact: Text = Field("", max_length=50)
    emergency_mobile: Text = Field("", max_length=30)


class StatusIn(Schema):
    status: MemberStatus
    reason: Text = Field(..., max_length=200)


class RevealIn(Schema):
    field: str = Field(..., pattern="^(id_number|mobile|health_declaration)$")
    reason: Text = Field(..., max_length=200)


class RevealOut(Schema):
    field: str
    value: str


class PartnerIn(Schema):
    partner_id: Id | None = None


def _data(payload: MemberIn) -> services.MemberData:
    return services.MemberData(
        address=payload.address,
        emergency_contact=payload.emergency_contact,
        emergency_mobile=payload.emergency_mobile,
        health_fit=payload.health_fit,
        health_declaration=payload.health_declaration,
        political_status=payload.political_status,
        category=payload.category,
        skills=list(payload.skills),
    )


def member_row(member: Member, viewer) -> dict:
    """The list fields, masked unless the viewer is the member."""
    own = member.user_id == viewer.pk
    return {
        "id": member.pk,
        "name": member.name,
        "gender": member.get_gender_display(),
        "age": member.age_on(timezone.localdate()),
        "unit": {"id": member.unit.pk, "name": member.unit.name, "kind": member.unit.kind},
        "position": selectors.position_label(member),
        "status": member.status,
        "status_label": member.get_status_display(),
        "category": member.category,
        "political_status": member.political_status,
        "is_party_member": member.is_party_member,
        "skills": [{"code": s.code, "name": s.name} for s in member.skills.all()],
        "mobile": member.user.mobile if own else mask_mobile(member.user.mobile),
        "id_number": member.id_number if own else member.masked_id_number,
        "joined_on": member.joined_on,
    }


def member_detail(member: Member, viewer) -> dict:
    own = member.user_id == viewer.pk
    record = service_record(member)
    points = points_summary(member)
    keeper = own or access.can(viewer, "members.manage", member.unit)
    history = member.status_changes.select_related("changed_by").order_by("-changed_at", "-id")
    return {
        **member_row(member, viewer),
        "birth_date": member.birth_date if own else None,
        "address": member.address if keeper else None,
        "emergency_contact": member.emergency_contact if keeper else None,
        "emergency_mobile": (
            member.emergency_mobile if own else mask_mobile(member.emergency_mobile)
        )
        if keeper
        else None,
        "health_fit": member.health_fit,
        "health_declaration": member.health_declaration if own else None,
        "partner": (
            {
                "id": member.partner.pk,
                "name": member.partner.name,
                "partnered_on": member.partnered_on,
            }
            if member.partner_id
            else None
        ),
        "certificates": list(member.certificates.all()),
        "insurances": list(member.insurances.all()),
        "equipment": [
            {
                "id": e.pk,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "description": e.description,
                "issued_on": e.issued_on,
                "returned_on": e.returned_on,
            }
            for e in member.equipment.all()
        ],
        "history": [
            {
                "from_status": h.from_status,
                "to_status": h.to_status,
                "reason": h.reason,
                "changed_by": h.changed_by.name if h.changed_by_id else None,
                "changed_at": h.changed_at,
            }
            for h in history
        ],
        "version": member.version,
        "has_photo": bool(member.photo),
        "pre_job_training_on": member.pre_job_training_on,
        "service_hours": record["total_hours"],
        "activity_count": record["activity_count"],
        "points": points["earned"],
        "level_label": points["level_label"],
    }


@router.get("", response=list[MemberListItem])
@paginate(IdsFirstPagination)
def list_members(
    request,
    q: Text | None = Query(None, max_length=50, description="姓名、拼音、拼音首字母、后四位"),
    unit_id: Id | None = None,
    status: str | None = Query(None, pattern="^[a-z_]{1,20}$"),
    category: Category | None = None,
    skill: str | None = Query(None, pattern="^[a-z_]{1,40}$"),
):
    """Member files in the caller's scope (and their own), searchable and filterable."""
    unit = access.get_unit_for_user(request.user, unit_id) if unit_id else None
    return selectors.members_for(
        request.user, q=q, unit=unit, status=status, category=category, skill=skill
    )


@router.post("", response={201: MemberDetail, **ERRORS})
def register(request, payload: RegisterIn):
    """实名登记: open a member file (and an account with the 队员 role) in a unit."""
    unit = access.get_unit_for_user(request.user, payload.unit_id)
    if not payload.consent:
        raise DomainError(
            "须先取得本人对个人信息处理的同意。", code="consent_required", field="consent"
        )
    member = services.register_member(
        actor=request.user,
        unit=unit,
        name=payload.name,
        id_number=payload.id_number,
        mobile=payload.mobile,
        joined_on=payload.joined_on,
        data=_data(payload),
        consent_version=services.PRIVACY_NOTICE_VERSION,
    )
    return Status(
        201, member_detail(selectors.get_member_for_user(request.user, member.pk), request.user)
    )


@router.get("/me", response={200: MemberDetail, **ERRORS})
def my_file(request):
    """The caller's own member file, unmasked."""
    member = selectors.own_member(request.user)
    if member is None:
        raise NotFound("您还没有队员档案。")
    return member_detail(member, request.user)


@router.patch("/me/contact", response={200: MemberDetail, **ERRORS})
def update_my_contact(request, payload: ContactIn):
    """A volunteer corrects their own address and emergency contact (audited)."""
    services.update_own_contact(
        user=request.user,
        address=payload.address,
        emergency_contact=payload.emergency_contact,
        emergency_mobile=payload.emergency_mobile,
    )
    return member_detail(selectors.own_member(request.user), request.user)


@router.get("/{member_id}", response={200: MemberDetail, **ERRORS})
def get_member(request, member_id: Id):
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


@router.patch("/{member_id}", response={200: MemberDetail, **ERRORS})
def update(request, member_id: Id, payload: UpdateIn):
    """Edit the file (not name or ID number), with optimistic locking. Only the fields sent
    change; the health declaration only by the member or someone who may reveal it."""
    member = selectors.get_member_for_user(request.user, member_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    services.update_member(
        actor=request.user, member=member, changes=changes, expected_version=version
    )
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


@router.post("/{member_id}/status", response={200: MemberDetail, **ERRORS})
def change_status(request, member_id: Id, payload: StatusIn):
    """Dynamic management (5.2.7): a status change with its reason."""
    member = selectors.get_member_for_user(request.user, member_id)
    services.change_status(
        actor=request.user, member=member, to=payload.status, reason=payload.reason
    )
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


@router.post("/{member_id}/partner", response={200: MemberDetail, **ERRORS})
def set_partner(request, member_id: Id, payload: PartnerIn):
    """1+1 pairing (5.4.6); `partner_id: null` ends it."""
    member = selectors.get_member_for_user(request.user, member_id)
    partner = (
        selectors.get_member_for_user(request.user, payload.partner_id)
        if payload.partner_id
        else None
    )
    services.set_partner(actor=request.user, member=member, partner=partner)
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


@router.post("/{member_id}/reveal", response={200: RevealOut, **ERRORS})
def reveal(request, member_id: Id, payload: RevealIn):
    """Show one masked value in clear — needs the reveal permission and a reason; audited."""
    member = selectors.get_member_for_user(request.user, member_id)
    value = services.reveal(
        actor=request.user, member=member, field_name=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


class TrainingIn(Schema):
    completed_on: date | None = Field(..., description="完成日期；null 清除")


@router.post("/{member_id}/pre-job-training", response={200: MemberDetail, **ERRORS})
def pre_job_training(request, member_id: Id, payload: TrainingIn):
    """5.3.1: record the completion of pre-job training (no tasks before it)."""
    member = selectors.get_member_for_user(request.user, member_id)
    services.record_pre_job_training(
        actor=request.user, member=member, completed_on=payload.completed_on
    )
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


class MemberMoveIn(Schema):
    unit_id: Id


@router.post("/{member_id}/move", response={200: MemberDetail, **ERRORS})
def move(request, member_id: Id, payload: MemberMoveIn):
    """Move a member to another squad or group of the same team (their 队员 role follows)."""
    member = selectors.get_member_for_user(request.user, member_id)
    unit = access.get_unit_for_user(request.user, payload.unit_id)
    services.move_member(actor=request.user, member=member, unit=unit)
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)


@router.post("/{member_id}/photo", response={200: MemberDetail, **ERRORS})
def upload_photo(request, member_id: Id, photo: File[UploadedFile]):
    """Replace the photo (JPEG/PNG/WebP ≤ 5 MB); it is re-encoded without its metadata."""
    member = selectors.get_member_for_user(request.user, member_id)
    check_upload_size(photo, max_bytes=photos.MAX_BYTES, field="photo", label="照片")
    services.set_photo(actor=request.user, member=member, content=photo.read())
    return member_detail(selectors.get_member_for_user(request.user, member_id), request.user)
