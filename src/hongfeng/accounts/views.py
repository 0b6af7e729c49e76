"""Login, logout, my account, role management and account management pages. Thin: parse, fetch
through the access helper, call one service, render."""

import time

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongfeng.accounts import access, activation, selectors, services
from hongfeng.accounts import login as login_service
from hongfeng.accounts.forms import (
    ActivationForm,
    ActivationRequestForm,
    GrantForm,
    LoginForm,
    PasswordChangeForm,
    ReasonForm,
)
from hongfeng.accounts.middleware import AUTH_AT, SEEN_AT
from hongfeng.accounts.models import ApiToken, Role
from hongfeng.accounts.throttling import TooManyAttempts
from hongfeng.core.errors import DomainError, NotFound
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _start_session(request, user) -> None:
    # Two-factor for privileged roles (security.md) slots in here: a later issue checks
    # access.is_privileged(user) and asks for a TOTP code before calling login().
    login(request, user, backend="hongfeng.accounts.backends.MobilePasswordBackend")
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now


@never_cache
def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, mobile=form.cleaned_data["mobile"], password=form.cleaned_data["password"]
        )
        if user is None:
            error = getattr(request, "hongfeng_login_error", None)
            form.add_error(None, error.message if error else "手机号或密码不正确。")
            if isinstance(error, TooManyAttempts):
                status = 429  # the page says how long to wait; the status says it to machines
        else:
            _start_session(request, user)
            if user.must_change_password:
                return redirect("accounts:password_change")
            return redirect(_safe_next(request) or "home")
    context = {"form": form, "next": _safe_next(request)}
    return render(request, "accounts/login.html", context, status=status)


ACTIVATION_MOBILE = "hf_activation_mobile"  # kept in the session, never in a URL


@never_cache
def activate(request):
    """激活账号: the holder sets their password with the code sent to their phone, and is
    logged in. Below the form, a second one asks for a (new) code."""
    if request.user.is_authenticated:
        return redirect("home")
    initial = {"mobile": request.session.get(ACTIVATION_MOBILE, "")}
    form = ActivationForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = activation.activate_account(
                mobile=form.cleaned_data["mobile"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status if isinstance(exc, TooManyAttempts) else 200
        else:
            _start_session(request, user)
            messages.success(request, "账号已激活，欢迎使用。请牢记您设置的密码，不要告诉任何人。")
            return redirect("home")
    return render(
        request,
        "accounts/activate.html",
        {"form": form, "request_form": ActivationRequestForm(initial=initial)},
        status=status,
    )


@never_cache
@require_POST
def activation_request(request):
    """Send an activation code to the holder's phone (the same answer for every number)."""
    form = ActivationRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请输入正确的11位手机号码。")
        return redirect("accounts:activate")
    try:
        answer = activation.request_activation_code(mobile=form.cleaned_data["mobile"])
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        request.session[ACTIVATION_MOBILE] = form.cleaned_data["mobile"][:30]
        messages.success(request, answer)
    return redirect("accounts:activate")


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        login_service.record_logout(user=request.user)
        logout(request)
        messages.success(request, "您已安全退出。")
    return redirect("accounts:login")


@login_required
def me(request):
    """My account: who I am, my roles, my API tokens."""
    tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by(
        "-created_at"
    )
    return render(
        request,
        "accounts/me.html",
        {
            "assignments": access.assignments(request.user),
            "tokens": tokens,
        },
    )


@login_required
@never_cache
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.change_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            update_session_auth_hash(request, user)  # keep this session, end the others
            messages.success(request, "密码已修改，您在其他设备上的登录已全部退出。")
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_POST
def token_revoke(request, token_id):
    record = ApiToken.objects.filter(user=request.user, pk=access.parse_id(token_id)).first()
    if record is None:
        raise NotFound()
    services.revoke_api_token(actor=request.user, record=record)
    messages.success(request, f"令牌 {record.prefix}… 已吊销。")
    return redirect("accounts:me")


# --- roles --------------------------------------------------------------------------------


def _require(user, capability):
    if not access.has_capability(user, capability):
        raise PermissionDenied("您没有访问此页面的权限。")


@login_required
def roles(request):
    """Role assignments in my scope, filterable; revoked ones on request."""
    _require(request.user, "roles.view")
    status = request.GET.get("status", "active")
    unit = None
    if request.GET.get("unit"):
        unit = access.get_unit_for_user(request.user, request.GET["unit"])
    role = request.GET.get("role") if request.GET.get("role") in Role.values else None
    rows = selectors.assignments_for(
        request.user,
        role=role,
        active={"active": True, "revoked": False}.get(status),
        q=request.GET.get("q", "")[:50],
    )
    if unit is not None:
        rows = rows.filter(unit__path__startswith=unit.path)
    page = paginate(request, rows)
    for assignment in page:
        assignment.can_revoke = assignment.is_active and access.can_grant(
            request.user, assignment.role, assignment.unit
        )
    return render(
        request,
        "accounts/roles.html",
        {
            "page": page,
            "unit": unit,
            "role_choices": Role.choices,
            "status": status,
            "can_grant_here": bool(unit and access.roles_grantable_at(request.user, unit)),
        },
    )


@login_required
@never_cache
def grant(request):
    """Grant a role over a unit chosen in the tree. (The three powers are granted at the server
    console with `hongfeng create_admin`.)"""
    unit = access.get_unit_for_user(request.user, request.GET.get("unit"))
    roles_here = access.roles_grantable_at(request.user, unit)
    if not roles_here:
        raise PermissionDenied("您无权在该单位授予角色。")
    form = GrantForm(request.POST or None, roles=roles_here)
    if request.method == "POST" and form.is_valid():
        try:
            assignment, sent = services.grant_role_by_mobile(
                actor=request.user,
                mobile=form.cleaned_data["mobile"],
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                unit=unit,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            who, role = assignment.user.name, assignment.get_role_display()
            done = f"已授予 {who} {role}。"
            if sent is not None:
                done = f"已为 {who} 新建账号并授予{role}。{sent.text}"
            messages.success(request, done)
            return redirect(f"{reverse('accounts:roles')}?unit={unit.pk}")
    return render(request, "accounts/grant.html", {"form": form, "unit": unit})


@login_required
def role_revoke(request, assignment_id):
    assignment = access.get_assignment_for_user(request.user, assignment_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke_role(
                actor=request.user, assignment=assignment, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "授权已撤销。")
            return redirect("accounts:roles")
    return render(request, "accounts/role_revoke.html", {"assignment": assignment, "form": form})


# --- accounts -----------------------------------------------------------------------------


def _account_capability(user) -> str:
    if access.has_capability(user, "accounts.manage"):
        return "accounts.manage"
    if access.has_capability(user, "accounts.unlock"):
        return "accounts.unlock"
    raise PermissionDenied("您没有访问此页面的权限。")


@login_required
def accounts(request):
    """Accounts in my scope (系统管理员: manage; 安全管理员: lockouts)."""
    capability = _account_capability(request.user)
    active = {"1": True, "0": False}.get(request.GET.get("active", ""))
    rows = selectors.accounts_for(
        request.user, q=request.GET.get("q", "")[:50], active=active, capability=capability
    )
    if request.GET.get("locked") == "1":
        rows = rows.filter(locked_until__isnull=False)
    return render(request, "accounts/accounts.html", {"page": paginate(request, rows)})


@login_required
def account_detail(request, user_id):
    _account_capability(request.user)
    account = selectors.account_detail(request.user, user_id)
    history = selectors.assignments_for(request.user, user_id=account.pk, active=None)
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "history": history[:50],
            "can_manage": access.can_manage_account(request.user, account),
            "can_unlock": access.can_unlock(request.user, account),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def account_action(request, user_id, action):
    _account_capability(request.user)
    account = access.get_user_for_user(request.user, user_id)
    try:
        if action == "disable":
            form = ReasonForm(request.POST)
            reason = form.data.get("reason", "")
            services.disable_account(actor=request.user, user=account, reason=reason)
            messages.success(request, "账号已停用，其所有会话和令牌已立即失效。")
        elif action == "enable":
            services.enable_account(actor=request.user, user=account)
            messages.success(request, "账号已启用。")
        elif action == "unlock":
            login_service.unlock_login(actor=request.user, user=account)
            messages.success(request, "已解除登录锁定。")
        elif action == "reset":
            sent = services.reset_password(actor=request.user, user=account)
            messages.success(request, f"已重置：原密码和所有登录已失效。{sent.text}")
        else:
            raise NotFound()
    except DomainError as exc:
        flash_domain_error(request, exc)
    return redirect("accounts:account", user_id=account.pk)
