"""Redemption (积分兑换, 5.4.5; 7.2.2 *Decision*: it spends the balance, never the level).

- Association admins keep their association's catalogue (`redemption.manage`).
- A serving member whose unit lies under the item's association orders it while the item is
  on the shelf and within its dates. One transaction takes the stock with ONE conditional
  UPDATE (stock >= quantity, judged in the database under the item's row lock) and reserves
  the points with a ledger entry keyed `order:<id>`; if either is refused, nothing changes.
- The association admin (or the member's captain, `redemption.hand_over`) records the
  hand-over; the association admin or the member cancels a reserved order, which refunds the
  points (entry `order:<id>:refund`, never moving the level) and puts the stock back.

Locks are always taken in the same order — order row, item row, the member's points row — so
an order and a cancellation never deadlock each other."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import Conflict, DomainError, Forbidden, NotFound, check_version
from hongfeng.members.models import SERVING, Member
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit
from hongfeng.points.models import Source
from hongfeng.points.services import post_entry
from hongfeng.redemption.models import (
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_STOCK,
    CatalogueItem,
    Order,
    OrderStatus,
)

__all__ = [
    "ItemData",
    "can_hand_over",
    "can_manage_item",
    "cancel_order",
    "create_item",
    "hand_over_order",
    "place_order",
    "update_item",
]


@dataclass
class ItemData:
    name: str
    price: int
    stock: int
    valid_from: date
    valid_until: date | None = None
    description: str = ""
    active: bool = True


def _clean(data: ItemData) -> ItemData:
    name = " ".join((data.name or "").split())
    if not name:
        raise DomainError("请填写物品名称。", code="invalid_item", field="name")
    if len(name) > 60:
        raise DomainError("物品名称不能超过 60 个字。", code="invalid_item", field="name")
    if not isinstance(data.price, int) or not 1 <= data.price <= MAX_PRICE:
        raise DomainError(
            f"所需积分须为 1 到 {MAX_PRICE} 之间的整数。", code="invalid_item", field="price"
        )
    if not isinstance(data.stock, int) or not 0 <= data.stock <= MAX_STOCK:
        raise DomainError(
            f"库存须为 0 到 {MAX_STOCK} 之间的整数（不能为负数）。",
            code="invalid_item",
            field="stock",
        )
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise DomainError("截止日期不能早于开始日期。", code="invalid_item", field="valid_until")
    description = (data.description or "").strip()
    if len(description) > 1000:
        raise DomainError("说明不能超过 1000 个字。", code="invalid_item", field="description")
    return ItemData(
        name=name,
        price=data.price,
        stock=data.stock,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        description=description,
        active=bool(data.active),
    )


def _summary(item: CatalogueItem) -> dict:
    return {
        "item": item.pk,
        "name": item.name,
        "price": item.price,
        "stock": item.stock,
        "valid_from": item.valid_from.isoformat(),
        "valid_until": item.valid_until.isoformat() if item.valid_until else None,
        "active": item.active,
    }


def can_manage_item(user, item: CatalogueItem) -> bool:
    return access.can(user, "redemption.manage", item.association)


@transaction.atomic
def create_item(*, actor, association: Unit, data: ItemData) -> CatalogueItem:
    """A new item in an association's catalogue (that association's admins)."""
    access.require(actor, "redemption.manage", association, "只有该协会的管理员可以维护兑换物品。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "兑换物品由义警协会提供，请选择一个协会。",
            code="not_an_association",
            field="association_id",
        )
    clean = _clean(data)
    item = CatalogueItem.objects.create(
        association=association,
        name=clean.name,
        description=clean.description,
        price=clean.price,
        stock=clean.stock,
        valid_from=clean.valid_from,
        valid_until=clean.valid_until,
        active=clean.active,
        created_by=actor,
    )
    record_event(
        action="redemption.item_created",
        actor=actor,
        target=item,
        unit=association,
        summary=_summary(item),
    )
    return item


@transaction.atomic
def update_item(
    *, actor, item: CatalogueItem, data: ItemData, expected_version: int
) -> CatalogueItem:
    """Edit an item under its row lock with the version read by the editor. Orders and
    cancellations move the stock and the version too, so an edit made from a stale copy is
    refused (409) instead of overwriting stock that was taken meanwhile."""
    access.require(
        actor, "redemption.manage", item.association, "只有该协会的管理员可以维护兑换物品。"
    )
    clean = _clean(data)
    item = CatalogueItem.objects.select_for_update().select_related("association").get(pk=item.pk)
    check_version(item, expected_version)
    before = _summary(item)
    item.name = clean.name
    item.description = clean.description
    item.price = clean.price
    item.stock = clean.stock
    item.valid_from = clean.valid_from
    item.valid_until = clean.valid_until
    item.active = clean.active
    item.version += 1
    item.save()
    after = _summary(item)
    record_event(
        action="redemption.item_updated",
        actor=actor,
        target=item,
        unit=item.association,
        summary={
            "item": item.pk,
            "changed": {k: [before[k], after[k]] for k in after if before[k] != after[k]},
        },
    )
    return item


def _own_member(user) -> Member:
    member = (
        Member.objects.select_related("unit").filter(user=user).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if member is None:
        raise DomainError("您还没有队员档案，不能兑换积分。", code="no_member_file")
    return member


def in_catalogue_scope(member: Member, item: CatalogueItem) -> bool:
    """The member's unit lies under the item's association (its catalogue is theirs)."""
    return member.unit.path.startswith(item.association.path)


def _available_now(today: date) -> Q:
    return Q(active=True, valid_from__lte=today) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def place_order(
    *, user, item: CatalogueItem, quantity: int = 1, client_key: str = ""
) -> tuple[Order, bool]:
    """Order `quantity` of `item` for the caller's own member file: the stock is taken and the
    points reserved in one transaction, or nothing happens. Returns (order, created): with a
    `client_key`, a retry (or a parallel duplicate) gets the first order and False."""
    member = _own_member(user)
    client_key = (client_key or "").strip()
    if client_key:
        existing = _by_client_key(member, client_key, item, quantity)
        if existing is not None:
            return existing, False
    try:
        order = _place_order(user=user, member=member, item=item, quantity=quantity, key=client_key)
    except IntegrityError:
        if not client_key:
            raise
        # The same key won a race on another connection; its order is the answer.
        existing = _by_client_key(member, client_key, item, quantity)
        if existing is None:
            raise
        return existing, False
    return order, True


def _by_client_key(member, client_key, item, quantity) -> Order | None:
    existing = Order.objects.filter(member=member, client_key=client_key).first()
    if existing is not None and (existing.item_id != item.pk or existing.quantity != quantity):
        raise Conflict(
            "该请求编号已用于另一个兑换，请刷新页面后重试。",
            code="idempotency_key_reused",
            field="client_key",
        )
    return existing


@transaction.atomic
def _place_order(*, user, member: Member, item: CatalogueItem, quantity: int, key: str) -> Order:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(
            f"每次兑换数量须在 1 到 {MAX_QUANTITY} 件之间。",
            code="invalid_quantity",
            field="quantity",
        )
    if member.status not in SERVING:
        raise DomainError("您当前的队员状态不能兑换积分。", code="member_not_serving")
    if not in_catalogue_scope(member, item):
        raise DomainError(
            "该物品不在您所属协会的兑换目录中。", code="not_in_catalogue_scope", field="item_id"
        )
    today = timezone.localdate()
    # ONE conditional UPDATE: it takes the item's row lock, so parallel orders queue on it and
    # each re-checks the stock the previous one left. Stock can never go below zero.
    taken = CatalogueItem.objects.filter(
        _available_now(today), pk=item.pk, stock__gte=quantity
    ).update(stock=F("stock") - quantity, version=F("version") + 1)
    if not taken:
        fresh = CatalogueItem.objects.get(pk=item.pk)
        if not fresh.active or not fresh.is_valid_on(today):
            raise DomainError(
                "该物品当前不可兑换（已下架或不在兑换期内）。",
                code="item_not_available",
                field="item_id",
            )
        raise Conflict(
            f"库存不足：「{fresh.name}」仅剩 {fresh.stock} 件。",
            code="out_of_stock",
            field="quantity",
        )
    item = CatalogueItem.objects.get(pk=item.pk)  # the price in force, read under the lock
    points = item.price * quantity
    order = Order.objects.create(
        member=member,
        item=item,
        quantity=quantity,
        points=points,
        client_key=key,
        created_at=timezone.now(),
        created_by=user,
    )
    try:
        post_entry(
            member=member,
            source=Source.REDEMPTION,
            amount=Decimal(-points),
            explanation=f"兑换「{item.name}」× {quantity}（订单 {order.pk}）",
            actor=user,
            key=f"order:{order.pk}",
            inputs={"order": order.pk, "item": item.pk, "quantity": quantity, "price": item.price},
        )
    except DomainError as exc:
        if exc.code == "insufficient_balance":
            raise DomainError(
                f"积分余额不足：兑换需要 {points} 分。",
                code="insufficient_balance",
                field="quantity",
            ) from None
        raise
    record_event(
        action="redemption.ordered",
        actor=user,
        target=order,
        unit=member.unit,
        summary={"order": order.pk, "item": item.pk, "quantity": quantity, "points": points},
    )
    return order


def _locked(order: Order) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("item__association", "member__unit")
        .get(pk=order.pk)
    )


def can_hand_over(user, order: Order) -> bool:
    """The item's association admins, or the captain of the member's team."""
    return access.can(user, "redemption.manage", order.item.association) or access.can(
        user, "redemption.hand_over", order.member.unit
    )


def _settled(order: Order) -> None:
    if order.status == OrderStatus.HANDED_OVER:
        raise Conflict("该订单的物品已交付，不能再交付或取消。", code="already_handed_over")
    if order.status == OrderStatus.CANCELLED:
        raise Conflict("该订单已取消。", code="already_cancelled")


@transaction.atomic
def hand_over_order(*, actor, order: Order) -> Order:
    """Record that the member received the item; the reserved points are spent for good."""
    order = _locked(order)
    if not can_hand_over(actor, order):
        raise Forbidden("只有协会管理员或该队员的总队长可以交付兑换物品。")
    _settled(order)
    order.status = OrderStatus.HANDED_OVER
    order.handed_over_at = timezone.now()
    order.handed_over_by = actor
    order.save(update_fields=["status", "handed_over_at", "handed_over_by"])
    record_event(
        action="redemption.handed_over",
        actor=actor,
        target=order,
        unit=order.member.unit,
        summary={"order": order.pk, "item": order.item_id, "quantity": order.quantity},
    )
    return order


@transaction.atomic
def cancel_order(*, actor, order: Order, reason: str = "") -> Order:
    """Cancel a reserved order: the stock goes back and the points are refunded (the refund
    never moves the level). The member may cancel their own order; the association admin may
    cancel any of its catalogue's orders, with a reason the member is shown."""
    order = _locked(order)
    own = order.member.user_id == getattr(actor, "pk", None)
    manages = access.can(actor, "redemption.manage", order.item.association)
    if not (own or manages):
        raise Forbidden("只有协会管理员或下单的队员本人可以取消兑换。")
    reason = " ".join((reason or "").split())[:200]
    if not own and not reason:
        raise DomainError("请填写取消原因（队员会看到）。", code="reason_required", field="reason")
    _settled(order)
    CatalogueItem.objects.filter(pk=order.item_id).update(
        stock=F("stock") + order.quantity, version=F("version") + 1
    )
    post_entry(
        member=order.member,
        source=Source.REDEMPTION,
        amount=Decimal(order.points),
        earned=Decimal(0),
        explanation=f"取消兑换「{order.item.name}」退回积分（订单 {order.pk}）",
        actor=actor,
        key=f"order:{order.pk}:refund",
        inputs={"order": order.pk},
    )
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancelled_by = actor
    order.cancel_reason = reason or "队员本人取消"
    order.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    record_event(
        action="redemption.cancelled",
        actor=actor,
        target=order,
        unit=order.member.unit,
        summary={"order": order.pk, "points": order.points, "by_member": own},
    )
    return order


def get_item_for_user(user, item_id, *, manage: bool = False) -> CatalogueItem:
    """An item the user manages, or (unless `manage`) one in their own member's catalogue
    scope; anything else is NotFound (404)."""
    item = (
        CatalogueItem.objects.select_related("association")
        .filter(pk=access.parse_id(item_id))
        .first()
    )
    if item is None:
        raise NotFound()
    if can_manage_item(user, item):
        return item
    if not manage:
        member = Member.objects.select_related("unit").filter(user=user).first()
        if member is not None and in_catalogue_scope(member, item):
            return item
    raise NotFound()
