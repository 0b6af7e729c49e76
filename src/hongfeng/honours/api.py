"""Honours, certificates and violations over the API (5.2.10): honour titles and their rules,
grants, certificates (荣誉证书, 志愿服务证明) with their PDF and public verification, warnings,
the violation rule and the exit proposals the captain decides."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.conf import settings
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.core.api_types import Id, Text
from hongfeng.core.downloads import file_response
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.numbers import tidy_strings
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter, MeRoute
from hongfeng.honours import selectors, services
from hongfeng.honours.models import (
    CertificateKind,
    ProposalStatus,
    ThresholdKind,
    ViolationRule,
)
from hongfeng.honours.schemas import (
    ProposalOut,
    ViolationRuleIn,
    ViolationRuleOut,
    WarningIn,
    WarningOut,
    WarningResult,
    unit_ref,
)
from hongfeng.members.selectors import get_member_for_user, own_member
from hongfeng.orgs.api import ERRORS, ErrorOut, UnitRef

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix; a parameter
# of a prefix ("{member_id}") is declared `Annotated[Id, Path()]`, because ninja reads path
# parameters only from an operation's own path.
titles_router = Router()
association_honours_router = Router()
grants_router = Router()
member_honours_router = Router()
certificates_router = Router()
member_certificates_router = Router()
public_router = Router()
violation_rule_router = Router()
member_warnings_router = Router()
proposals_router = Router()
my_honours_router = Router()
my_certificates_router = Router()
my_warnings_router = Router()
TAGS = ("荣誉、证书与警告",)
API_ROUTERS = [
    ApiRouter("/honour-titles", titles_router, TAGS),
    ApiRouter("/associations/{unit_id}/honours", association_honours_router, TAGS),
    ApiRouter("/honour-grants", grants_router, TAGS),
    ApiRouter("/members/{member_id}/honours", member_honours_router, TAGS),
    ApiRouter("/certificates", certificates_router, TAGS),
    ApiRouter("/members/{member_id}/certificates", member_certificates_router, TAGS),
    ApiRouter("/public/certificates", public_router, TAGS),
    ApiRouter("/associations/{unit_id}/violation-rule", violation_rule_router, TAGS),
    ApiRouter("/members/{member_id}/warnings", member_warnings_router, TAGS),
    ApiRouter("/exit-proposals", proposals_router, TAGS),
]
# The caller's own, under /api/v1/me (hongfeng.core.me).
ME_ROUTES = [
    MeRoute("/honours", my_honours_router, TAGS),
    MeRoute("/certificates", my_certificates_router, TAGS),
    MeRoute("/warnings", my_warnings_router, TAGS),
]


def _own(request):
    member = own_member(request.user)
    if member is None:
        raise NotFound("您还没有队员档案。")
    return member


def base_url(request) -> str:
    """Where the verification page lives (HONGFENG_PUBLIC_BASE_URL, else this request's host)."""
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


# ---- honour titles -------------------------------------------------------------------------


class TitleIn(Schema):
    association_id: Id
    name: Text = Field(..., min_length=1, max_length=40)
    threshold_kind: ThresholdKind = Field(..., description="hours / points / manual")
    threshold_value: Decimal | None = Field(
        None, gt=0, le=1_000_000, description="门槛（小时或积分；人工授予不填）"
    )
    description: Text = Field("", max_length=200)


class TitleOut(Schema):
    id: int
    association: UnitRef
    name: str
    description: str
    threshold_kind: ThresholdKind
    threshold_value: Decimal | None
    rule_label: str
    active: bool

    @staticmethod
    def resolve_association(obj):
        return unit_ref(obj.association)


@titles_router.get("", response=list[TitleOut])
@paginate(Pagination)
def list_titles(request):
    """Honour titles of the associations the caller reaches or belongs under."""
    return selectors.titles_for(request.user)


@titles_router.post("", response={201: TitleOut, **ERRORS})
def create_title(request, payload: TitleIn):
    """A new honour title (association admins). A rule title is granted at once to members
    who already meet it."""
    association = access.get_unit_for_user(request.user, payload.association_id)
    title = services.create_title(
        actor=request.user,
        association=association,
        name=payload.name,
        threshold_kind=payload.threshold_kind,
        threshold_value=payload.threshold_value,
        description=payload.description,
    )
    return Status(201, title)


@titles_router.post("/{title_id}/retire", response={200: TitleOut, **ERRORS})
def retire_title(request, title_id: Id):
    """Stop granting a title (grants made stay)."""
    title = selectors.get_title_for_user(request.user, title_id)
    return services.retire_title(actor=request.user, title=title)


class AppliedOut(Schema):
    granted: int = Field(..., description="本次新授予的人数")


@association_honours_router.post("/apply-rules", response={200: AppliedOut, **ERRORS})
def apply_rules(request, unit_id: Annotated[Id, Path()]):
    """Grant every rule title of this association (and those below it) to the members who
    meet it now; idempotent (a member never gets a title twice)."""
    association = access.get_unit_for_user(request.user, unit_id)
    access.require(request.user, "honours.rules", association, "只有协会管理员可以按规则授予荣誉。")
    made = services.grant_honours_by_rule(association=association, actor=request.user)
    return {"granted": len(made)}


# ---- grants --------------------------------------------------------------------------------


class HonourGrantIn(Schema):
    member_id: Id
    title_id: Id
    reason: Text = Field(..., min_length=1, max_length=200)


class HonourGrantOut(Schema):
    id: int
    member_id: int
    member_name: str
    title_id: int
    title: str
    association: str
    by_rule: bool
    granted_by: str | None
    granted_on: date
    reason: str

    @staticmethod
    def resolve_member_name(obj):
        return obj.member.name

    @staticmethod
    def resolve_title(obj):
        return obj.title.name

    @staticmethod
    def resolve_association(obj):
        return obj.title.association.name

    @staticmethod
    def resolve_granted_by(obj):
        return obj.granted_by.name if obj.granted_by_id else None


@grants_router.post("", response={201: HonourGrantOut, **ERRORS})
def grant_honour(request, payload: HonourGrantIn):
    """Grant a title to a member in scope, with a reason (association admins and captains)."""
    member = get_member_for_user(request.user, payload.member_id)
    title = selectors.get_title_for_user(request.user, payload.title_id)
    grant = services.grant_honour(
        actor=request.user, member=member, title=title, reason=payload.reason
    )
    return Status(201, selectors.grants_for(request.user).get(pk=grant.pk))


@my_honours_router.get("", response=list[HonourGrantOut])
@paginate(Pagination)
def my_honours(request):
    return selectors.grants_for(request.user, member=_own(request))


@member_honours_router.get("", response=list[HonourGrantOut])
@paginate(Pagination)
def member_honours(request, member_id: Annotated[Id, Path()]):
    member = get_member_for_user(request.user, member_id)
    return selectors.grants_for(request.user, member=member)


# ---- certificates --------------------------------------------------------------------------


class CertificateIn(Schema):
    member_id: Id
    kind: CertificateKind
    grant_id: Id | None = Field(None, description="荣誉证书：所授荣誉（honour-grants 的 id）")
    start: date | None = Field(None, description="志愿服务证明：起始日期（含）")
    end: date | None = Field(None, description="志愿服务证明：截止日期（含）")


class CertificateOut(Schema):
    id: int
    serial: str
    kind: CertificateKind
    kind_label: str
    member_id: int
    snapshot: dict
    issued_at: datetime
    revoked: bool
    revoke_reason: str
    verify_url: str
    pdf_url: str

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_snapshot(obj):
        return tidy_strings(obj.snapshot)

    @staticmethod
    def resolve_verify_url(obj, context):
        return services.verify_url(obj, base_url(context["request"]))

    @staticmethod
    def resolve_pdf_url(obj):
        return f"/api/v1/certificates/{obj.pk}/pdf"


@certificates_router.post("", response={201: CertificateOut, **ERRORS})
def issue_certificate(request, payload: CertificateIn):
    """Issue a 荣誉证书 (for a grant) or a 志愿服务证明 (for a date range): the member for
    themselves, admins and captains for members in scope."""
    member = get_member_for_user(request.user, payload.member_id)
    if payload.kind == CertificateKind.HONOUR:
        if payload.grant_id is None:
            raise DomainError("请选择要开具证书的荣誉。", code="required", field="grant_id")
        grant = selectors.grants_for(request.user, member=member).filter(pk=payload.grant_id)
        grant = grant.first()
        if grant is None:
            raise NotFound("该队员没有这项荣誉。")
        certificate = services.issue_honour_certificate(actor=request.user, grant=grant)
    else:
        if payload.start is None or payload.end is None:
            raise DomainError("请填写起止日期。", code="required", field="start")
        certificate = services.issue_service_statement(
            actor=request.user, member=member, start=payload.start, end=payload.end
        )
    return Status(201, certificate)


@my_certificates_router.get("", response=list[CertificateOut])
@paginate(Pagination)
def my_certificates(request):
    return selectors.certificates_for(request.user, member=_own(request))


@member_certificates_router.get("", response=list[CertificateOut])
@paginate(Pagination)
def member_certificates(request, member_id: Annotated[Id, Path()]):
    member = get_member_for_user(request.user, member_id)
    return selectors.certificates_for(request.user, member=member)


def certificate_download(certificate, pdf: bytes):
    """The certificate's PDF as a download, named by kind and serial (page and API alike)."""
    return file_response(
        pdf,
        filename=f"{certificate.get_kind_display()}-{certificate.serial}.pdf",
        content_type="application/pdf",
        fallback=f"certificate-{certificate.serial}.pdf",
    )


@certificates_router.get(
    "/{certificate_id}/pdf",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {"description": "证书PDF", "content": {"application/pdf": {"schema": {}}}}
        }
    },
)
def certificate_pdf(request, certificate_id: Id):
    """The certificate as a PDF with its QR code (audited like an export)."""
    certificate = selectors.get_certificate_for_user(request.user, certificate_id)
    pdf = services.certificate_pdf(
        actor=request.user, certificate=certificate, base_url=base_url(request)
    )
    return certificate_download(certificate, pdf)


class HonoursReasonIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=200)


@certificates_router.post("/{certificate_id}/revoke", response={200: CertificateOut, **ERRORS})
def revoke_certificate(request, certificate_id: Id, payload: HonoursReasonIn):
    """Withdraw a certificate: its verification page stops confirming it."""
    certificate = selectors.get_certificate_for_user(request.user, certificate_id)
    return services.revoke_certificate(
        actor=request.user, certificate=certificate, reason=payload.reason
    )


class VerificationOut(Schema):
    genuine: bool
    message: str
    serial: str | None = None
    kind: CertificateKind | None = None
    snapshot: dict | None = None


@public_router.get(
    "/{serial}",
    response={200: VerificationOut, 422: ErrorOut},
    auth=None,
)
def verify_certificate(request, serial: str, h: str = Query("", max_length=128)):
    """Public verification (no login), the JSON twin of /verify/<serial>/?h=<mac>."""
    certificate = services.verify_certificate(serial[:40], h)
    if certificate is None:
        return {"genuine": False, "message": "证书不存在或已被篡改。"}
    return {
        "genuine": True,
        "message": "真实有效",
        "serial": certificate.serial,
        "kind": certificate.kind,
        "snapshot": tidy_strings(certificate.snapshot),
    }


# ---- violations ----------------------------------------------------------------------------


@violation_rule_router.get("", response={200: ViolationRuleOut, **ERRORS})
def get_violation_rule(request, unit_id: Annotated[Id, Path()]):
    unit = access.get_unit_for_user(request.user, unit_id)
    warnings, months, label = services.violation_rule_for(unit)
    own = ViolationRule.objects.filter(association=unit).exists()
    return {
        "association_id": unit.pk,
        "warnings": warnings,
        "window_months": months,
        "label": label,
        "default": not own,
    }


@violation_rule_router.put("", response={200: ViolationRuleOut, **ERRORS})
def set_violation_rule(request, unit_id: Annotated[Id, Path()], payload: ViolationRuleIn):
    """Set the association's rule for proposing exit (association admins)."""
    unit = access.get_unit_for_user(request.user, unit_id)
    rule = services.set_violation_rule(
        actor=request.user,
        association=unit,
        warnings=payload.warnings,
        window_months=payload.window_months,
    )
    _w, _m, label = services.violation_rule_for(unit)
    return {
        "association_id": unit.pk,
        "warnings": rule.warnings,
        "window_months": rule.window_months,
        "label": label,
        "default": False,
    }


@member_warnings_router.post("", response={201: WarningResult, **ERRORS})
def issue_warning(request, member_id: Annotated[Id, Path()], payload: WarningIn):
    """Warn a member (association admins and captains); the rule may propose exit."""
    from hongfeng.honours.models import ExitProposal

    member = get_member_for_user(request.user, member_id)
    warning = services.issue_warning(
        actor=request.user,
        member=member,
        reason=payload.reason,
        evidence=payload.evidence,
        evidence_ref=payload.evidence_ref,
        penalty_points=payload.penalty_points,
    )
    warning.exit_proposal = (
        ExitProposal.objects.filter(warning=warning).select_related("member", "team").first()
    )
    return Status(201, warning)


@member_warnings_router.get("", response=list[WarningOut])
@paginate(Pagination)
def member_warnings(request, member_id: Annotated[Id, Path()]):
    member = get_member_for_user(request.user, member_id)
    return selectors.warnings_for(request.user, member=member)


@my_warnings_router.get("", response=list[WarningOut])
@paginate(Pagination)
def my_warnings(request):
    return selectors.warnings_for(request.user, member=_own(request))


@proposals_router.get("", response=list[ProposalOut])
@paginate(Pagination)
def list_proposals(request, status: ProposalStatus | None = None):
    """Exit proposals about members in scope, newest first (filter `status=pending`)."""
    return selectors.proposals_for(request.user, status=status)


@proposals_router.post("/{proposal_id}/confirm", response={200: ProposalOut, **ERRORS})
def confirm_exit(request, proposal_id: Id, payload: HonoursReasonIn):
    """The captain confirms: the member's status becomes 已退出 (with its history row)."""
    proposal = selectors.get_proposal_for_user(request.user, proposal_id)
    services.decide_exit(actor=request.user, proposal=proposal, confirm=True, reason=payload.reason)
    return selectors.proposals_for(request.user).get(pk=proposal.pk)


@proposals_router.post("/{proposal_id}/reject", response={200: ProposalOut, **ERRORS})
def reject_exit(request, proposal_id: Id, payload: HonoursReasonIn):
    """The captain rejects the proposal with a reason; the member stays."""
    proposal = selectors.get_proposal_for_user(request.user, proposal_id)
    services.decide_exit(
        actor=request.user, proposal=proposal, confirm=False, reason=payload.reason
    )
    return selectors.proposals_for(request.user).get(pk=proposal.pk)
