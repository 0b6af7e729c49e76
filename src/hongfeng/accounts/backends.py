from django.contrib.auth.backends import BaseBackend

from hongfeng.accounts.models import User
from hongfeng.core.errors import DomainError


class MobilePasswordBackend(BaseBackend):
    """Django's `authenticate()` for mobile + password, routed through the lockout service so
    that every login path shares one failure counter."""

    def authenticate(self, request, username=None, password=None, mobile=None, **kwargs):
        from hongfeng.accounts.login import authenticate_mobile

        mobile = mobile or username
        if not mobile or password is None:
            return None
        try:
            return authenticate_mobile(mobile=mobile, password=password)
        except DomainError as exc:
            if request is not None:
                request.hongfeng_login_error = exc
            return None

    def get_user(self, user_id):
        # Disabled accounts lose their sessions on the next request.
        return User.objects.filter(pk=user_id, is_active=True).first()
