"""Ending an account's sessions and API tokens at once (security.md): on disabling, on a password
change, reset or activation."""

from django.db.models import F
from django.utils import timezone

from hongfeng.accounts.models import ApiToken, User, new_security_stamp


def end_sessions(user: User) -> None:
    """Kill every session (the security stamp is part of the session hash) and every API token
    of `user`, inside the caller's transaction; `user` is refreshed."""
    User.objects.filter(pk=user.pk).update(
        security_stamp=new_security_stamp(), version=F("version") + 1
    )
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.refresh_from_db()
