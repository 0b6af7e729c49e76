"""Point redemption (积分兑换, 5.4.5, 7.2.2): each association keeps a catalogue of items with a
point price, a stock and validity dates; a member's order reserves points from the spendable
balance (never the cumulative total that sets the level) and takes the stock; the hand-over is
recorded; a cancellation refunds the points and puts the stock back.

An order's life is short and linear — reserved → handed over, or reserved → cancelled — so
each transition is stamped on the order itself (who, when, why), exactly once, under the
order's row lock; the audit trail holds the same facts, and the points moves are ledger
entries keyed `order:<id>` and `order:<id>:refund`."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

MAX_QUANTITY = 10
MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000


class CatalogueItem(models.Model):
    """One thing an association offers for points."""

    association = models.ForeignKey(
        "orgs.Unit",
        verbose_name="协会",
        on_delete=models.PROTECT,
        related_name="catalogue_items",
    )
    name = models.CharField("名称", max_length=60)
    description = models.TextField("说明", max_length=1000, blank=True)
    price = models.PositiveIntegerField("所需积分", help_text="每件所需积分（整数）")
    stock = models.IntegerField("库存", help_text="可兑换的数量；下单即占用，取消即退回")
    valid_from = models.DateField("兑换开始日期")
    valid_until = models.DateField("兑换截止日期", null=True, blank=True)
    active = models.BooleanField("上架", default=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["association", "price", "id"]
        indexes = [models.Index(fields=["association", "active"], name="catalogue_assoc_active")]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock__gte=0),
                name="catalogue_stock_not_negative",
                violation_error_message="库存不能为负数。",
            ),
            models.CheckConstraint(
                condition=Q(price__gt=0),
                name="catalogue_price_positive",
                violation_error_message="所需积分须大于 0。",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="catalogue_validity_ordered",
                violation_error_message="截止日期不能早于开始日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class OrderStatus(models.TextChoices):
    RESERVED = "reserved", "待领取"
    HANDED_OVER = "handed_over", "已领取"
    CANCELLED = "cancelled", "已取消"


# Badge colours (ui.md: the same colours everywhere): waiting blue, done green, stopped red.
STATUS_COLOURS = {
    OrderStatus.RESERVED: "blue",
    OrderStatus.HANDED_OVER: "green",
    OrderStatus.CANCELLED: "red",
}


class Order(models.Model):
    """A member's redemption: the points are reserved (taken from the balance) when it is
    placed, kept when the item is handed over, refunded when it is cancelled."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="redemption_orders"
    )
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveSmallIntegerField("数量")
    points = models.PositiveIntegerField("积分", help_text="单价 × 数量（下单时的价格）")
    status = models.CharField(
        "状态", max_length=16, choices=OrderStatus.choices, default=OrderStatus.RESERVED
    )
    # A client-generated key: a retried request returns the first order, never a second one.
    client_key = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="order_member_recent"),
            models.Index(fields=["item", "status"], name="order_item_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "client_key"],
                condition=~Q(client_key=""),
                name="order_client_key_once",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_QUANTITY),
                name="order_quantity_range",
                violation_error_message=f"数量须在 1 到 {MAX_QUANTITY} 之间。",
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="order_points_positive"),
            models.CheckConstraint(
                condition=(
                    Q(status=OrderStatus.RESERVED, handed_over_at__isnull=True)
                    & Q(cancelled_at__isnull=True)
                )
                | Q(status=OrderStatus.HANDED_OVER, handed_over_at__isnull=False)
                | Q(status=OrderStatus.CANCELLED, cancelled_at__isnull=False),
                name="order_status_stamped",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.item_id} × {self.quantity}"

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "secondary")
