"""Reads of the catalogue and the orders, each through the access choke point: a member sees
their associations' catalogue and their own orders; an association admin the catalogues and
orders of the associations in reach; a captain the orders of their team's members."""

from django.db.models import Q
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.core.errors import NotFound
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit
from hongfeng.redemption.models import CatalogueItem, Order


def catalogue_for(member, *, today=None):
    """What the member can redeem today: the items on the shelf and within their dates of
    every association above the member's unit (sold-out items included, shown as such)."""
    if member is None:
        return CatalogueItem.objects.none()
    today = today or timezone.localdate()
    return (
        CatalogueItem.objects.filter(
            association_id__in=member.unit.ancestor_ids(), active=True, valid_from__lte=today
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("association")
        .order_by("-association__depth", "price", "id")
    )


def managed_items(user):
    """Every item (on or off the shelf, in or out of its dates) the user may edit."""
    return (
        CatalogueItem.objects.filter(access.scope_q(user, "redemption.manage", "association"))
        .select_related("association")
        .order_by("association__path", "-active", "name", "id")
    )


def managed_associations(user):
    return (
        Unit.objects.visible_to(user, "redemption.manage")
        .active()
        .filter(kind__in=ASSOCIATION_KINDS)
        .order_by("path")
    )


def can_handle_orders(user) -> bool:
    return access.has_capability(user, "redemption.manage") or access.has_capability(
        user, "redemption.hand_over"
    )


def _handling_q(user) -> Q:
    return access.scope_q(user, "redemption.manage", "item__association") | access.scope_q(
        user, "redemption.hand_over", "member__unit"
    )


def orders_to_handle(user, *, status: str | None = None):
    """Orders of the catalogues the user manages, and of the members whose team they lead."""
    rows = Order.objects.filter(_handling_q(user))
    if status:
        rows = rows.filter(status=status)
    return rows.select_related(
        "item__association", "member__unit", "handed_over_by", "cancelled_by"
    ).order_by("-created_at", "-id")


def my_orders(member):
    if member is None:
        return Order.objects.none()
    return (
        Order.objects.filter(member=member)
        .select_related("item__association", "handed_over_by", "cancelled_by")
        .order_by("-created_at", "-id")
    )


def get_order_for_user(user, order_id) -> Order:
    """The order if it is the user's own or one they handle, else NotFound (404)."""
    own = Q(member__user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    order = (
        Order.objects.filter(_handling_q(user) | own)
        .select_related("item__association", "member__unit", "member__user")
        .filter(pk=access.parse_id(order_id))
        .first()
    )
    if order is None:
        raise NotFound()
    return order
