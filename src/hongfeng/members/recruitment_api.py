"""Recruitment endpoints (5.2.2): the public application form and status lookup, team
charters, and the review queue."""

from datetime import datetime
from typing import Annotated

from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import NotFound
from hongfeng.core.masking import mask_mobile
from hongfeng.core.middleware import client_ip
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter
from hongfeng.core.uploads import check_upload_size
from hongfeng.members import importing, services
from hongfeng.members.models import Application, ApplicationStatus, Charter, RosterImport
from hongfeng.members.roster import MAX_BYTES
from hongfeng.orgs.api import ERRORS, UnitRef
from hongfeng.orgs.models import Unit, UnitKind

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix; a parameter
# of a prefix ("{member_id}") is declared `Annotated[Id, Path()]`, because ninja reads path
# parameters only from an operation's own path.
recruiting_router = Router()
charter_router = Router()
applications_router = Router()
roster_router = Router()
TAGS = ("招募与入队申请",)
API_ROUTERS = [
    ApiRouter("/recruiting-teams", recruiting_router, TAGS),
    ApiRouter("/teams/{team_id}/charter", charter_router, TAGS),
    ApiRouter("/applications", applications_router, TAGS),
    ApiRouter("/roster-imports", roster_router, TAGS),
]


class CharterOut(Schema):
    team: UnitRef
    version: int
    joining_conditions: str
    rights_and_duties: str
    exit_rules: str
    code_of_conduct: str
    published_at: datetime


class CharterIn(Schema):
    joining_conditions: Text = Field(..., max_length=4000)
    rights_and_duties: Text = Field(..., max_length=4000)
    exit_rules: Text = Field(..., max_length=4000)
    code_of_conduct: Text = Field(..., max_length=4000)


class RecruitingTeamOut(Schema):
    id: int
    name: str
    county: str
    charter_version: int

    @staticmethod
    def resolve_county(obj) -> str:
        return obj.parent.name


class ApplicationIn(Schema):
    team_id: Id
    preferred_unit_id: Id | None = None
    name: Text = Field(..., max_length=30)
    id_number: Text = Field(..., max_length=30)
    mobile: Text = Field(..., max_length=30)
    password: Text = Field(..., max_length=128, description="审核通过后用于登录")
    skills: list[Text] = Field(default_factory=list, max_length=30)
    motivation: Text = Field("", max_length=500)
    charter_version: int = Field(..., ge=1, description="所阅读并同意的章程版本")
    charter_accepted: bool
    privacy_accepted: bool


class ApplicationReceipt(Schema):
    code: str = Field(..., description="申请编号：凭编号和手机号查询审核结果")
    status: ApplicationStatus
    status_label: str


class ApplicationStatusOut(ApplicationReceipt):
    team: str
    submitted_at: datetime
    decided_at: datetime | None
    decision_reason: str


class ApplicationOut(Schema):
    id: int
    code: str
    team: UnitRef
    preferred_unit: UnitRef | None
    name: str
    id_number: str = Field(..., description="脱敏")
    mobile: str = Field(..., description="脱敏")
    skills: list[str]
    motivation: str
    charter_version: int | None
    status: ApplicationStatus
    submitted_at: datetime
    decided_at: datetime | None
    decision_reason: str
    member_id: int | None

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.masked_id_number

    @staticmethod
    def resolve_mobile(obj) -> str:
        return mask_mobile(obj.mobile)

    @staticmethod
    def resolve_charter_version(obj) -> int | None:
        return obj.charter.version if obj.charter_id else None


class ApproveIn(Schema):
    unit_id: Id | None = Field(None, description="编入的单位；默认为申请人选择的单位或总队")


class RejectIn(Schema):
    reason: Text = Field(..., max_length=200)


def _charter_out(charter: Charter) -> dict:
    team = charter.team
    return {
        "team": {"id": team.pk, "name": team.name, "kind": team.kind},
        "version": charter.version,
        "joining_conditions": charter.joining_conditions,
        "rights_and_duties": charter.rights_and_duties,
        "exit_rules": charter.exit_rules,
        "code_of_conduct": charter.code_of_conduct,
        "published_at": charter.published_at,
    }


def _public_team(team_id: int) -> Unit:
    team = Unit.objects.active().filter(kind=UnitKind.TEAM, pk=team_id).first()
    if team is None:
        raise NotFound("该队伍不存在或已停止招募。")
    return team


@recruiting_router.get("", auth=None, response=list[RecruitingTeamOut])
@paginate(Pagination)
def recruiting_teams(request, q: Text | None = Query(None, max_length=30)):
    """Teams that take applications (public: team names are public information)."""
    return services.recruiting_teams(q or "")


@charter_router.get("", auth=None, response={200: CharterOut, **ERRORS})
def get_charter(request, team_id: Annotated[Id, Path()]):
    """A team's current charter and code of conduct (public, 5.2.2)."""
    charter = services.current_charter(_public_team(team_id))
    if charter is None:
        raise NotFound("该队伍尚未发布章程。")
    return _charter_out(charter)


@charter_router.post("", response={201: CharterOut, **ERRORS})
def publish_charter(request, team_id: Annotated[Id, Path()], payload: CharterIn):
    """Publish a new charter version (the previous versions stay on record)."""
    team = access.get_unit_for_user(request.user, team_id)
    charter = services.publish_charter(actor=request.user, team=team, **payload.dict())
    return Status(201, _charter_out(charter))


@applications_router.post("", auth=None, response={201: ApplicationReceipt, **ERRORS})
def apply(request, payload: ApplicationIn):
    """The public application form: anyone may apply to a team that publishes a charter."""
    team = Unit.objects.filter(pk=payload.team_id).first()
    preferred = (
        Unit.objects.filter(pk=payload.preferred_unit_id).first()
        if payload.preferred_unit_id
        else None
    )
    application = services.submit_application(
        team=team,
        preferred_unit=preferred,
        name=payload.name,
        id_number=payload.id_number,
        mobile=payload.mobile,
        password=payload.password,
        skills=list(payload.skills),
        motivation=payload.motivation,
        charter_version=payload.charter_version,
        charter_accepted=payload.charter_accepted,
        privacy_accepted=payload.privacy_accepted,
        ip=client_ip(request) or "",
    )
    return Status(
        201,
        {
            "code": application.code,
            "status": application.status,
            "status_label": application.get_status_display(),
        },
    )


@applications_router.get("/lookup", auth=None, response={200: ApplicationStatusOut, **ERRORS})
def lookup(
    request, code: Text = Query(..., max_length=12), mobile: Text = Query(..., max_length=30)
):
    """The applicant checks the result with the application number and their mobile."""
    application = services.find_application(code, mobile)
    if application is None:
        raise NotFound("没有找到该申请，请核对申请编号和手机号。")
    return {
        "code": application.code,
        "status": application.status,
        "status_label": application.get_status_display(),
        "team": application.team.name,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "decision_reason": application.decision_reason,
    }


def _get_application(user, application_id) -> Application:
    application = (
        services.reviewable_applications(user)
        .select_related("team", "preferred_unit", "charter")
        .filter(pk=access.parse_id(application_id))
        .first()
    )
    if application is None:
        raise NotFound()
    return application


@applications_router.get("", response=list[ApplicationOut])
@paginate(Pagination)
def list_applications(request, status: ApplicationStatus | None = ApplicationStatus.APPLIED):
    """The review queue: applications to the teams the caller keeps."""
    rows = services.reviewable_applications(request.user).select_related(
        "team", "preferred_unit", "charter"
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("submitted_at", "id")


@applications_router.get("/{application_id}", response={200: ApplicationOut, **ERRORS})
def get_application(request, application_id: Id):
    return _get_application(request.user, application_id)


@applications_router.post("/{application_id}/approve", response={200: ApplicationOut, **ERRORS})
def approve(request, application_id: Id, payload: ApproveIn):
    """Approve: a member file and an account with the 队员 role (见习 status)."""
    application = _get_application(request.user, application_id)
    unit = access.get_unit_for_user(request.user, payload.unit_id) if payload.unit_id else None
    services.approve_application(actor=request.user, application=application, unit=unit)
    return _get_application(request.user, application_id)


@applications_router.post("/{application_id}/reject", response={200: ApplicationOut, **ERRORS})
def reject(request, application_id: Id, payload: RejectIn):
    """Reject with a reason the applicant reads on the status lookup."""
    application = _get_application(request.user, application_id)
    services.reject_application(actor=request.user, application=application, reason=payload.reason)
    return _get_application(request.user, application_id)


# --- roster imports (4.5 队伍一键入驻) ------------------------------------------------------


class RosterReportEntry(Schema):
    row: int
    name: str
    unit: str
    errors: list[str]
    notes: list[str]


class RosterImportOut(Schema):
    id: int
    team: UnitRef
    filename: str
    status: str
    status_label: str
    valid_only: bool
    total_rows: int
    valid_rows: int
    error_rows: int
    imported_rows: int
    message: str
    error_code: str = Field(description="失败时的原因代码，如 corrupt_file、not_xlsx；否则为空")
    report: list[RosterReportEntry]
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()


class ConfirmIn(Schema):
    valid_only: bool = Field(False, description="仅导入通过校验的行（有错误行时必须明确选择）")


def _get_import(user, import_id) -> RosterImport:
    roster_import = (
        importing.visible_imports(user)
        .select_related("team")
        .filter(pk=access.parse_id(import_id))
        .first()
    )
    if roster_import is None:
        raise NotFound()
    return roster_import


@roster_router.post("", response={201: RosterImportOut, **ERRORS})
def upload_roster(
    request, team_id: Form[Id], consent_confirmed: Form[bool], file: File[UploadedFile]
):
    """Upload a team roster (.xlsx, multipart); validation runs in the background."""
    team = access.get_unit_for_user(request.user, team_id)
    check_upload_size(file, max_bytes=MAX_BYTES, field="file", label="名册文件")
    roster_import = importing.start_import(
        actor=request.user,
        team=team,
        filename=file.name,
        content=file.read(),
        consent_confirmed=consent_confirmed,
    )
    return Status(201, _get_import(request.user, roster_import.pk))


@roster_router.get("/{import_id}", response={200: RosterImportOut, **ERRORS})
def get_roster_import(request, import_id: Id):
    """Progress, counts and the report of every bad row."""
    return _get_import(request.user, import_id)


@roster_router.post("/{import_id}/confirm", response={200: RosterImportOut, **ERRORS})
def confirm_roster_import(request, import_id: Id, payload: ConfirmIn):
    """Import all rows (only if all passed) or, explicitly, the valid rows only."""
    roster_import = _get_import(request.user, import_id)
    importing.confirm_import(
        actor=request.user, roster_import=roster_import, valid_only=payload.valid_only
    )
    return _get_import(request.user, import_id)
