"""Reads of accounts and role assignments, always through the access helper."""

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import LoginThrottle, RoleAssignment, User, normalize_mobile
from hongfeng.core.errors import NotFound


def assignments_for(user, *, role=None, unit_id=None, user_id=None, active=True, q=None):
    """Role assignments the user may see, newest first, with everything a list row shows."""
    rows = RoleAssignment.objects.visible_to(user).select_related(
        "user", "unit", "granted_by", "revoked_by"
    )
    if active is True:
        rows = rows.active()
    elif active is False:
        rows = rows.filter(revoked_at__isnull=False)
    if role:
        rows = rows.filter(role=role)
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if q:
        q = q.strip()
        mobile = normalize_mobile(q)
        match = Q(user__name__icontains=q) | Q(unit__name__icontains=q)
        if mobile.isdigit() and len(mobile) == 11:
            match |= Q(user__mobile=mobile)
        rows = rows.filter(match)
    return rows.order_by("-granted_at", "-id")


def _with_lock_state(users):
    """`locked_until`: the latest lock on the account that still holds — its own (等保) or one
    source's (`throttling`); a 安全管理员's unlock lifts both."""
    locks = LoginThrottle.objects.filter(
        mobile=OuterRef("mobile"), locked_until__gt=timezone.now()
    ).order_by("-locked_until")
    return users.annotate(locked_until=Subquery(locks.values("locked_until")[:1]))


def locked_account_count() -> int:
    """Mobile numbers with a lock that still holds (the account's own or one source's)."""
    locked = LoginThrottle.objects.filter(locked_until__gt=timezone.now()).exclude(mobile="")
    return locked.values("mobile").distinct().count()


def accounts_for(user, *, q=None, active=None, capability="accounts.view"):
    """Accounts holding a role in the user's scope, with their current lockout if any."""
    users = access.visible_users(user, capability)
    if active is not None:
        users = users.filter(is_active=active)
    if q:
        q = q.strip()
        mobile = normalize_mobile(q)
        match = Q(name__icontains=q)
        # Exactly the last four digits or the whole number: any other length would let someone
        # read a masked number back digit by digit.
        if mobile.isdigit() and len(mobile) == 4:
            match |= Q(mobile__endswith=mobile)
        elif mobile.isdigit() and len(mobile) == 11:
            match |= Q(mobile=mobile)
        users = users.filter(match)
    return _with_lock_state(users).order_by("name_pinyin", "id")


def account_detail(user, user_id) -> User:
    account = (
        _with_lock_state(access.visible_users(user)).filter(pk=access.parse_id(user_id)).first()
    )
    if account is None:
        raise NotFound()
    return account
