import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse

from hongfeng.accounts import access

AUTH_AT = "hf_auth_at"
SEEN_AT = "hf_seen_at"
# Writing the session on every click would turn reads into writes; a minute of slack is enough.
_TOUCH_EVERY = 60


class SessionTimeoutMiddleware:
    """Idle timeout (30 min, 15 for privileged roles) and absolute timeout (12 h) for browser
    sessions (security.md). API bearer tokens carry their own expiry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request, user)
            if expired:
                from hongfeng.accounts.login import record_logout

                record_logout(user=user, reason=expired)
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"code": "session_expired", "message": "会话已超时，请重新登录。"},
                        status=401,
                    )
                messages.info(request, "您长时间未操作，已自动退出，请重新登录。")
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    def _expired(self, request, user) -> str:
        now = time.time()
        session = request.session
        auth_at = session.get(AUTH_AT)
        seen_at = session.get(SEEN_AT)
        if auth_at is None or seen_at is None:
            session[AUTH_AT] = session.get(AUTH_AT, now)
            session[SEEN_AT] = now
            return ""
        idle_limit = (
            settings.SESSION_IDLE_TIMEOUT_PRIVILEGED
            if access.is_privileged(user)
            else settings.SESSION_IDLE_TIMEOUT
        )
        if now - auth_at > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
            return "absolute_timeout"
        if now - seen_at > idle_limit.total_seconds():
            return "idle_timeout"
        if now - seen_at > _TOUCH_EVERY:
            session[SEEN_AT] = now
        return ""


class PasswordChangeRequiredMiddleware:
    """An account with an initial or reset password can do nothing but change it (pages; the API
    enforces the same in its authentication classes)."""

    ALLOWED = ("/me/password/", "/logout/", "/static/", "/api/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(self.ALLOWED)
        ):
            from django.shortcuts import redirect

            messages.warning(request, "首次登录或密码已被重置，请先设置新密码。")
            return redirect("accounts:password_change")
        return self.get_response(request)
