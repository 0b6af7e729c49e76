"""Authentication, accounts and role assignments over the API."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts import access, activation, login, selectors, services
from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import DomainError
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter, MeRoute
from hongfeng.orgs.api import ERRORS, ErrorOut, UnitRef

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
roles_router = Router()
accounts_router = Router()
me_router = Router()
TAGS = ("账号与角色",)
API_ROUTERS = [
    ApiRouter("/role-assignments", roles_router, TAGS),
    ApiRouter("/accounts", accounts_router, TAGS),
]
# The caller's own, under /api/v1/me (hongfeng.core.me).
ME_ROUTES = [
    MeRoute("", me_router, TAGS),
]
auth_router = Router()
AUTH_ROUTER = ApiRouter("/auth", auth_router, ("认证",))


class TokenIn(Schema):
    mobile: Text = Field(..., max_length=30)
    password: Text = Field(..., max_length=256)
    label: Text = Field("", max_length=60, description="客户端名称，如「张三的手机」")


class TooManyAttemptsOut(ErrorOut):
    retry_after: int = Field(..., description="至少等待的秒数（同 Retry-After 头）")


# 429 `locked_out` (this source, or the whole account, is locked) or `throttled` (this source
# must wait before trying again): docs/security.md, T7.
THROTTLED = {429: TooManyAttemptsOut}


class ActivationCodeIn(Schema):
    mobile: Text = Field(..., max_length=30)


class ActivateIn(Schema):
    mobile: Text = Field(..., max_length=30)
    code: Text = Field(..., max_length=20, description="发到本人手机的8位短信激活码")
    new_password: Text = Field(..., max_length=256)


class ActivationMessageOut(Schema):
    message: str


class ActivationSentOut(Schema):
    sent_to: str = Field(..., description="激活码发往的手机号（脱敏）")
    expires_at: datetime

    @staticmethod
    def resolve_sent_to(obj) -> str:
        return obj.mobile_masked


class AccountOut(Schema):
    id: int
    name: str
    mobile_masked: str = Field(..., description="脱敏手机号，如 138****5678")
    is_active: bool
    must_change_password: bool
    date_joined: datetime
    disabled_at: datetime | None
    disabled_reason: str
    locked_until: datetime | None = None

    @staticmethod
    def resolve_mobile_masked(obj) -> str:
        return obj.masked_mobile


class AssignmentOut(Schema):
    id: int
    user: AccountOut
    role: Role
    role_label: str
    unit: UnitRef | None = Field(None, description="范围单位；为空表示全平台")
    granted_by: str | None
    granted_at: datetime
    active: bool
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str

    @staticmethod
    def resolve_role_label(obj: RoleAssignment) -> str:
        return obj.get_role_display()

    @staticmethod
    def resolve_granted_by(obj: RoleAssignment) -> str | None:
        return obj.granted_by.name if obj.granted_by_id else None

    @staticmethod
    def resolve_revoked_by(obj: RoleAssignment) -> str | None:
        return obj.revoked_by.name if obj.revoked_by_id else None

    @staticmethod
    def resolve_active(obj: RoleAssignment) -> bool:
        return obj.is_active


class TokenOut(Schema):
    token: str = Field(..., description="访问令牌，仅返回这一次")
    token_type: str = "Bearer"  # noqa: S105 — the scheme name, not a secret
    expires_at: datetime
    user: AccountOut


class MeOut(Schema):
    id: int
    name: str
    mobile: str = Field(..., description="本人手机号（仅对本人明文显示）")
    must_change_password: bool
    roles: list[AssignmentOut]
    capabilities: list[str]


class PasswordIn(Schema):
    old_password: Text = Field(..., max_length=256)
    new_password: Text = Field(..., max_length=256)


class RoleGrantIn(Schema):
    user_id: Id | None = Field(None, description="已有账号；与 mobile 二选一")
    mobile: Text | None = Field(None, max_length=30, description="按手机号授权；无账号时新建")
    name: Text | None = Field(None, max_length=50, description="新建账号时必填的姓名")
    role: Role
    unit_id: Id = Field(..., description="范围单位（三权角色只在服务器控制台授予）")


class RoleGrantOut(Schema):
    assignment: AssignmentOut
    account_created: bool
    activation: ActivationSentOut | None = Field(
        None, description="新账号：激活码已用短信发给本人（只说发往哪里、何时失效，不含激活码）"
    )


class AccountReasonIn(Schema):
    reason: Text = Field(..., max_length=200)


class PasswordResetOut(Schema):
    activation: ActivationSentOut


@auth_router.post("/token", auth=None, response={201: TokenOut, **ERRORS, **THROTTLED})
def issue_token(request, payload: TokenIn):
    """Exchange a mobile number and password for a bearer token (with expiry). Throttled as on
    the login page: five failures in a row lock the source out of the account for 15 minutes,
    failures from several sources lock the account for everyone, and a source that keeps
    failing must wait (429 with `retry_after`)."""
    user = login.authenticate_mobile(mobile=payload.mobile, password=payload.password)
    issued = services.issue_api_token(user=user, label=payload.label)
    return Status(
        201, {"token": issued.token, "expires_at": issued.record.expires_at, "user": user}
    )


@auth_router.post(
    "/activation-code", auth=None, response={202: ActivationMessageOut, **ERRORS, **THROTTLED}
)
def request_activation_code(request, payload: ActivationCodeIn):
    """Ask for an activation code for an account without a password (new, reset, registered
    or imported). It goes by SMS to that number only; the answer is the same for every number,
    registered or not. Counted against the source's throttle."""
    return Status(202, {"message": activation.request_activation_code(mobile=payload.mobile)})


@auth_router.post(
    "/activate", auth=None, response={200: ActivationMessageOut, **ERRORS, **THROTTLED}
)
def activate(request, payload: ActivateIn):
    """Set the account's password with the SMS activation code (password rules apply). The code
    works once; wrong codes are counted (the code is spent after five) and throttle the source.
    Then log in with `POST /auth/token`."""
    activation.activate_account(
        mobile=payload.mobile, code=payload.code, new_password=payload.new_password
    )
    return {"message": "账号已激活，请用新密码登录。"}


@auth_router.delete("/token", response={204: None, **ERRORS})
def revoke_token(request):
    """Revoke the bearer token used for this request (log out an API client)."""
    record = getattr(request, "api_token", None)
    if record is None:
        raise DomainError("此请求未使用访问令牌。", code="no_token")
    services.revoke_api_token(actor=request.user, record=record)
    return Status(204, None)


@me_router.get("", response=MeOut)
def me(request):
    """The caller's own account, roles and capabilities."""
    user = request.user
    roles = (
        RoleAssignment.objects.active()
        .filter(user=user)
        .select_related("user", "unit", "granted_by", "revoked_by")
    )
    capabilities = sorted(
        {c for a in access.assignments(user) for c in access.CAPABILITIES[a.role]}
    )
    return {
        "id": user.pk,
        "name": user.name,
        "mobile": user.mobile,
        "must_change_password": user.must_change_password,
        "roles": list(roles),
        "capabilities": capabilities,
    }


@me_router.post("/password", response={204: None, **ERRORS})
def change_password(request, payload: PasswordIn):
    """Change one's own password. Every session and token of the account ends, this one
    included: sign in again with the new password."""
    services.change_password(
        user=request.user, old_password=payload.old_password, new_password=payload.new_password
    )
    return Status(204, None)


@roles_router.get("", response=list[AssignmentOut])
@paginate(Pagination)
def list_assignments(
    request,
    role: Role | None = None,
    unit_id: Id | None = None,
    user_id: Id | None = None,
    active: bool | None = True,
    q: Text | None = Query(None, max_length=50),
):
    """Role assignments in the caller's scope (active ones by default)."""
    return selectors.assignments_for(
        request.user, role=role, unit_id=unit_id, user_id=user_id, active=active, q=q
    )


@roles_router.post("", response={201: RoleGrantOut, **ERRORS})
def grant(request, payload: RoleGrantIn):
    """Grant a role over a unit in the caller's scope. With `mobile` and `name`, an account is
    created first when none exists; its holder gets an activation code by SMS (the answer says
    where it went, never the code). A number the caller does not manage is refused with one
    generic `not_grantable`, whatever the reason."""
    unit = access.get_unit_for_user(request.user, payload.unit_id)
    if payload.user_id is not None:
        user = access.get_user_for_user(request.user, payload.user_id)
        assignment = services.grant_role(
            actor=request.user, user=user, role=payload.role, unit=unit
        )
        sent = None
    else:
        assignment, sent = services.grant_role_by_mobile(
            actor=request.user,
            mobile=payload.mobile or "",
            name=payload.name,
            role=payload.role,
            unit=unit,
        )
    assignment = access.get_assignment_for_user(request.user, assignment.pk)
    return Status(
        201,
        {
            "assignment": assignment,
            "account_created": sent is not None,
            "activation": sent,
        },
    )


@roles_router.get("/{assignment_id}", response={200: AssignmentOut, **ERRORS})
def get_assignment(request, assignment_id: Id):
    return access.get_assignment_for_user(request.user, assignment_id)


@roles_router.post("/{assignment_id}/revoke", response={200: AssignmentOut, **ERRORS})
def revoke(request, assignment_id: Id, payload: AccountReasonIn):
    """End a role assignment (kept as history)."""
    assignment = access.get_assignment_for_user(request.user, assignment_id)
    services.revoke_role(actor=request.user, assignment=assignment, reason=payload.reason)
    return access.get_assignment_for_user(request.user, assignment_id)


@accounts_router.get("", response=list[AccountOut])
@paginate(Pagination)
def list_accounts(request, q: Text | None = Query(None, max_length=50), active: bool | None = None):
    """Accounts holding roles in the caller's scope (for 系统管理员 and 安全管理员 and the
    leaders who grant roles)."""
    return selectors.accounts_for(request.user, q=q, active=active)


@accounts_router.get("/{user_id}", response={200: AccountOut, **ERRORS})
def get_account(request, user_id: Id):
    return selectors.account_detail(request.user, user_id)


@accounts_router.post("/{user_id}/disable", response={200: AccountOut, **ERRORS})
def disable(request, user_id: Id, payload: AccountReasonIn):
    """Disable an account; its sessions and API tokens end at once."""
    user = access.get_user_for_user(request.user, user_id)
    services.disable_account(actor=request.user, user=user, reason=payload.reason)
    return selectors.account_detail(request.user, user_id)


@accounts_router.post("/{user_id}/enable", response={200: AccountOut, **ERRORS})
def enable(request, user_id: Id):
    user = access.get_user_for_user(request.user, user_id)
    services.enable_account(actor=request.user, user=user)
    return selectors.account_detail(request.user, user_id)


@accounts_router.post("/{user_id}/reset-password", response={200: PasswordResetOut, **ERRORS})
def reset(request, user_id: Id):
    """Reset a password: the old one stops working, every session and token of the account
    ends, and an activation code goes by SMS to the holder's own phone (the answer says where
    and until when, never the code)."""
    user = access.get_user_for_user(request.user, user_id)
    return {"activation": services.reset_password(actor=request.user, user=user)}


@accounts_router.post("/{user_id}/unlock", response={200: AccountOut, **ERRORS})
def unlock(request, user_id: Id):
    """Lift a login lockout before it runs out (安全管理员)."""
    user = access.get_user_for_user(request.user, user_id)
    login.unlock_login(actor=request.user, user=user)
    return selectors.account_detail(request.user, user_id)
