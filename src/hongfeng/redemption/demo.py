"""Demo catalogue of the 诸暨市义警协会 (one item sold out, one past its dates) and a couple of
orders by 红枫 members who have points from the activities demo — one handed over, one
waiting. Built through the real services, so stock, ledger entries and audit rows are what
production would hold."""

from datetime import timedelta

from django.utils import timezone

from hongfeng.points.models import MemberPoints
from hongfeng.redemption import services
from hongfeng.redemption.services import ItemData

PICKUP = "凭订单到诸暨市义警协会办公室（暨阳街道）领取，工作日 9:00–17:00。"

# (name, price, stock, days valid from, days valid until (None = open-ended), description)
_ITEMS = [
    ("定制雨衣", 50, 20, -30, 180, "红枫义警定制反光雨衣，均码。"),
    ("急救包", 40, 15, -30, 365, "含止血带、纱布、碘伏棉签等 20 件常用急救用品。"),
    ("保温水杯", 20, 30, -60, None, "500 毫升不锈钢保温杯，印红枫义警标识。"),
    ("义警马甲", 60, 0, -30, 180, "反光执勤马甲，补货后上架。"),
    ("电影票", 30, 50, -90, -1, "诸暨影城 2D 电影票一张（活动已结束）。"),
]


def build(cast) -> None:
    admin = cast.users["county_admin"]
    zhuji = cast.units["zhuji"]
    today = timezone.localdate()
    items = {}
    for name, price, stock, start, end, description in _ITEMS:
        items[name] = services.create_item(
            actor=admin,
            association=zhuji,
            data=ItemData(
                name=name,
                price=price,
                stock=stock,
                valid_from=today + timedelta(days=start),
                valid_until=today + timedelta(days=end) if end is not None else None,
                description=f"{description}{PICKUP}",
            ),
        )
    # Two 红枫 members with the most points (not 张三, whose balance the walkthrough spends).
    volunteer = cast.users["volunteer"]
    richest = list(
        MemberPoints.objects.filter(
            member__unit__path__startswith=cast.units["hongfeng"].path, balance__gte=50
        )
        .exclude(member__user=volunteer)
        .select_related("member__user")
        .order_by("-balance", "member_id")[:2]
    )
    if len(richest) < 2:
        return
    first, second = (row.member.user for row in richest)
    raincoat, _ = services.place_order(user=first, item=items["定制雨衣"], quantity=1)
    services.hand_over_order(actor=admin, order=raincoat)
    services.place_order(user=second, item=items["急救包"], quantity=1)
