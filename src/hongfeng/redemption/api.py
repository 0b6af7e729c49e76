"""Redemption over the API (5.4.5): the catalogue a member can redeem (or an admin manages),
items, orders (a `client_key` makes a retried order safe), hand-over and cancellation."""

from datetime import date, datetime

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import Forbidden
from hongfeng.core.masking import mask_name
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter, MeRoute
from hongfeng.members.selectors import own_member
from hongfeng.orgs.api import ERRORS, UnitRef
from hongfeng.redemption import selectors, services
from hongfeng.redemption.models import MAX_PRICE, MAX_QUANTITY, MAX_STOCK, Order, OrderStatus

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix.
catalogue_router = Router()
orders_router = Router()
me_router = Router()
TAGS = ("积分兑换",)
API_ROUTERS = [
    ApiRouter("/catalogue", catalogue_router, TAGS),
    ApiRouter("/orders", orders_router, TAGS),
]
# The caller's own, under /api/v1/me (hongfeng.core.me).
ME_ROUTES = [
    MeRoute("/orders", me_router, TAGS),
]


class ItemIn(Schema):
    association_id: Id = Field(..., description="提供该物品的协会")
    name: Text = Field(..., min_length=1, max_length=60)
    description: Text = Field("", max_length=1000)
    price: int = Field(..., ge=1, le=MAX_PRICE, description="每件所需积分")
    stock: int = Field(..., ge=0, le=MAX_STOCK, description="库存（不能为负数）")
    valid_from: date
    valid_until: date | None = Field(None, description="兑换截止日期（含当天；空 = 长期）")
    active: bool = Field(True, description="是否上架")


class ItemUpdate(Schema):
    name: Text = Field(..., min_length=1, max_length=60)
    description: Text = Field("", max_length=1000)
    price: int = Field(..., ge=1, le=MAX_PRICE)
    stock: int = Field(..., ge=0, le=MAX_STOCK)
    valid_from: date
    valid_until: date | None = None
    active: bool = True
    version: int = Field(..., ge=1, description="乐观锁：读取时的版本号（下单也会改变版本号）")


class ItemOut(Schema):
    id: int
    association: UnitRef
    name: str
    description: str
    price: int
    stock: int
    valid_from: date
    valid_until: date | None
    active: bool
    available: bool = Field(..., description="今天可兑换（上架、在兑换期内、有库存）")
    version: int

    @staticmethod
    def resolve_association(obj):
        u = obj.association
        return {"id": u.pk, "name": u.name, "kind": u.kind}

    @staticmethod
    def resolve_available(obj) -> bool:
        return obj.active and obj.stock > 0 and obj.is_valid_on(timezone.localdate())


class ItemRef(Schema):
    id: int
    name: str


class MemberRef(Schema):
    id: int
    name: str = Field(..., description="姓名（脱敏）")
    unit: str


class OrderOut(Schema):
    id: int
    item: ItemRef
    association: UnitRef
    member: MemberRef
    quantity: int
    points: int
    status: OrderStatus
    status_label: str
    created_at: datetime
    handed_over_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str

    @staticmethod
    def resolve_item(obj):
        return {"id": obj.item_id, "name": obj.item.name}

    @staticmethod
    def resolve_association(obj):
        u = obj.item.association
        return {"id": u.pk, "name": u.name, "kind": u.kind}

    @staticmethod
    def resolve_member(obj):
        m = obj.member
        return {"id": m.pk, "name": mask_name(m.name), "unit": m.unit.name}

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()


class OrderIn(Schema):
    item_id: Id
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)
    client_key: Text = Field(
        "",
        max_length=80,
        pattern=r"^[A-Za-z0-9_.:\-]*$",
        description="客户端生成的请求编号（建议 UUID）：重试时返回同一订单，不会重复扣分",
    )


class CancelIn(Schema):
    reason: Text = Field("", max_length=200, description="取消原因（管理员取消时必填）")


def _data(payload) -> services.ItemData:
    return services.ItemData(
        name=payload.name,
        description=payload.description,
        price=payload.price,
        stock=payload.stock,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        active=payload.active,
    )


def _require_manager(request) -> None:
    if not access.has_capability(request.user, "redemption.manage"):
        raise Forbidden("只有协会管理员可以维护兑换物品。")


def _require_handler(request) -> None:
    if not selectors.can_handle_orders(request.user):
        raise Forbidden("您无权处理兑换订单。")


def _order(order_id) -> Order:
    return Order.objects.select_related("item__association", "member__unit").get(pk=order_id)


@catalogue_router.get("", response=list[ItemOut])
@paginate(Pagination)
def catalogue(request, manage: bool = Query(False, description="我管理的全部物品（含下架、过期）")):
    """The items I can redeem today (my associations' catalogues), or with `manage` every item
    of the catalogues I keep."""
    if manage:
        return selectors.managed_items(request.user)
    return selectors.catalogue_for(own_member(request.user))


@catalogue_router.get("/items/{item_id}", response={200: ItemOut, **ERRORS})
def get_item(request, item_id: Id):
    return services.get_item_for_user(request.user, item_id)


@catalogue_router.post("/items", response={201: ItemOut, **ERRORS})
def create_item(request, payload: ItemIn):
    """Add an item to an association's catalogue (that association's admins)."""
    _require_manager(request)
    association = access.get_unit_for_user(request.user, payload.association_id)
    item = services.create_item(actor=request.user, association=association, data=_data(payload))
    return Status(201, item)


@catalogue_router.put("/items/{item_id}", response={200: ItemOut, **ERRORS})
def update_item(request, item_id: Id, payload: ItemUpdate):
    """Edit an item; a stale `version` (someone edited or ordered meanwhile) is a 409."""
    _require_manager(request)
    item = services.get_item_for_user(request.user, item_id, manage=True)
    return services.update_item(
        actor=request.user, item=item, data=_data(payload), expected_version=payload.version
    )


@orders_router.post("", response={200: OrderOut, 201: OrderOut, **ERRORS})
def place_order(request, payload: OrderIn):
    """Redeem: the stock is taken and the points reserved at once, or nothing changes
    (`insufficient_balance`, `out_of_stock`, `item_not_available`, `not_in_catalogue_scope`).
    201 for a new order; 200 for a retry with the same `client_key`."""
    item = services.get_item_for_user(request.user, payload.item_id)
    order, created = services.place_order(
        user=request.user, item=item, quantity=payload.quantity, client_key=payload.client_key
    )
    return Status(201 if created else 200, _order(order.pk))


@me_router.get("", response=list[OrderOut])
@paginate(Pagination)
def my_orders(request):
    """My orders, newest first."""
    return selectors.my_orders(own_member(request.user)).select_related("member__unit")


@orders_router.get("", response={200: list[OrderOut], **ERRORS})
@paginate(Pagination)
def list_orders(request, status: OrderStatus | None = None):
    """Orders of the catalogues I keep (association admins) or of my team's members
    (captains), newest first."""
    _require_handler(request)
    return selectors.orders_to_handle(request.user, status=status)


@orders_router.post("/{order_id}/hand-over", response={200: OrderOut, **ERRORS})
def hand_over(request, order_id: Id):
    """Record that the member received the item."""
    _require_handler(request)
    order = selectors.get_order_for_user(request.user, order_id)
    services.hand_over_order(actor=request.user, order=order)
    return _order(order.pk)


@orders_router.post("/{order_id}/cancel", response={200: OrderOut, **ERRORS})
def cancel(request, order_id: Id, payload: CancelIn):
    """Cancel a reserved order: the points are refunded and the stock restored (the member,
    or the association admin with a reason)."""
    order = selectors.get_order_for_user(request.user, order_id)
    services.cancel_order(actor=request.user, order=order, reason=payload.reason)
    return _order(order.pk)
