"""积分兑换 (5.4.5, 7.2.2): the catalogue per association, orders that reserve points and take
stock, hand-over, cancellation with refund — bad input changes nothing, nothing is lost or
doubled, and stock and balance hold under concurrency (PostgreSQL)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import DomainError
from hongfeng.members.models import SERVING, Member
from hongfeng.points.models import MemberPoints, PointsEntry
from hongfeng.points.services import post_entry
from hongfeng.redemption import services
from hongfeng.redemption.models import CatalogueItem, Order, OrderStatus
from hongfeng.redemption.services import ItemData
from tests.conftest import ApiClient
from tests.support.threads import in_threads

# Every redemption write endpoint; tests/audit/test_audited_writes.py's guard imports this,
# and test_every_redemption_write_leaves_an_audit_row below proves each one is audited.
REDEMPTION_WRITES = {
    "post /api/v1/catalogue/items",
    "put /api/v1/catalogue/items/{item_id}",
    "post /api/v1/orders",
    "post /api/v1/orders/{order_id}/hand-over",
    "post /api/v1/orders/{order_id}/cancel",
}


def _today():
    return timezone.localdate()


def _item(cast, *, association="zhuji", admin="county_admin", **fields) -> CatalogueItem:
    data = {
        "name": "测试手电筒",
        "price": 10,
        "stock": 5,
        "valid_from": _today() - timedelta(days=1),
        "valid_until": _today() + timedelta(days=30),
        "description": "强光手电",
        **fields,
    }
    return services.create_item(
        actor=cast.users[admin], association=cast.units[association], data=ItemData(**data)
    )


def _member(cast, key="volunteer") -> Member:
    return Member.objects.select_related("unit").get(user=cast.users[key])


def _fund(member, amount) -> None:
    post_entry(
        member=member,
        source="award",
        amount=Decimal(amount),
        explanation="测试奖励",
        key=f"test:{uuid.uuid4().hex}",
    )


def _totals(member) -> MemberPoints:
    MemberPoints.objects.get_or_create(member=member)
    return MemberPoints.objects.get(member=member)


def _drain(member) -> None:
    """Spend the member's whole balance (so a test starts from a known one)."""
    balance = _totals(member).balance
    if balance:
        post_entry(
            member=member,
            source="penalty",
            amount=-balance,
            earned=Decimal(0),
            explanation="测试清零",
            key=f"test:{uuid.uuid4().hex}",
        )


@pytest.fixture
def volunteer(cast):
    member = _member(cast)
    _drain(member)
    _fund(member, 100)
    return member


def _state(member, item):
    item.refresh_from_db()
    totals = _totals(member)
    return (
        item.stock,
        totals.balance,
        totals.earned,
        totals.level,
        Order.objects.filter(member=member).count(),
        PointsEntry.objects.filter(member=member).count(),
    )


class TestPlaceOrder:
    def test_an_order_takes_stock_and_reserves_points_not_the_level(self, cast, volunteer):
        item = _item(cast)
        earned, level = _totals(volunteer).earned, _totals(volunteer).level
        order, _ = services.place_order(user=cast.users["volunteer"], item=item, quantity=3)
        item.refresh_from_db()
        totals = _totals(volunteer)
        assert (order.status, order.points, order.quantity) == (OrderStatus.RESERVED, 30, 3)
        assert item.stock == 2
        assert totals.balance == Decimal(70)
        assert (totals.earned, totals.level) == (earned, level)  # 7.2.2: never the level
        entry = PointsEntry.objects.get(key=f"order:{order.pk}")
        assert (entry.source, entry.amount, entry.earned) == ("redemption", -30, 0)
        assert AuditEvent.objects.filter(action="redemption.ordered", target_id=str(order.pk))

    def test_more_than_the_balance_is_refused_and_changes_nothing(self, cast, volunteer):
        item = _item(cast, price=60)
        before = _state(volunteer, item)
        with pytest.raises(DomainError) as exc:
            services.place_order(user=cast.users["volunteer"], item=item, quantity=2)
        assert exc.value.code == "insufficient_balance"
        assert "120" in exc.value.message
        assert _state(volunteer, item) == before

    def test_more_than_the_stock_is_refused_and_changes_nothing(self, cast, volunteer):
        item = _item(cast, stock=2)
        before = _state(volunteer, item)
        with pytest.raises(DomainError) as exc:
            services.place_order(user=cast.users["volunteer"], item=item, quantity=3)
        assert (exc.value.code, exc.value.status) == ("out_of_stock", 409)
        assert "仅剩 2 件" in exc.value.message
        assert _state(volunteer, item) == before

    @pytest.mark.parametrize(
        "fields",
        # Days from today, counted when the test runs: a date taken at collection time goes
        # stale when the suite crosses midnight (tomorrow became today on New Year's Eve).
        [
            {"valid_from": 1, "valid_until": None},
            {"valid_from": -9, "valid_until": -1},
            {"active": False},
        ],
        ids=["not_yet", "expired", "off_the_shelf"],
    )
    def test_an_item_outside_its_dates_or_off_the_shelf_is_not_available(
        self, cast, volunteer, fields
    ):
        today = _today()
        days = ("valid_from", "valid_until")
        item = _item(
            cast,
            **{
                k: today + timedelta(days=v) if k in days and v is not None else v
                for k, v in fields.items()
            },
        )
        before = _state(volunteer, item)
        with pytest.raises(DomainError) as exc:
            services.place_order(user=cast.users["volunteer"], item=item)
        assert exc.value.code == "item_not_available"
        assert _state(volunteer, item) == before

    def test_the_last_valid_day_counts(self, cast, volunteer):
        item = _item(cast, valid_from=_today(), valid_until=_today())
        assert services.place_order(user=cast.users["volunteer"], item=item)[0].pk

    def test_another_associations_catalogue_is_out_of_scope(self, cast, volunteer):
        item = _item(cast, association="xihu", admin="outsider")
        before = _state(volunteer, item)
        with pytest.raises(DomainError) as exc:
            services.place_order(user=cast.users["volunteer"], item=item)
        assert exc.value.code == "not_in_catalogue_scope"
        assert _state(volunteer, item) == before

    def test_an_ancestor_associations_catalogue_is_in_scope(self, cast, volunteer):
        item = _item(cast, association="province", admin="province_admin")
        assert services.place_order(user=cast.users["volunteer"], item=item)[0].points == 10

    def test_the_price_in_force_is_charged(self, cast, volunteer):
        item = _item(cast)
        stale = CatalogueItem.objects.get(pk=item.pk)
        services.update_item(
            actor=cast.users["county_admin"],
            item=item,
            data=ItemData(name=item.name, price=20, stock=5, valid_from=item.valid_from),
            expected_version=item.version,
        )
        order, _ = services.place_order(user=cast.users["volunteer"], item=stale)
        assert order.points == 20

    def test_an_account_without_member_file_cannot_order(self, cast):
        item = _item(cast)
        with pytest.raises(DomainError) as exc:
            services.place_order(user=cast.users["county_admin"], item=item)
        assert exc.value.code == "no_member_file"

    def test_a_retry_with_the_same_client_key_orders_once(self, cast, volunteer):
        item = _item(cast)
        user = cast.users["volunteer"]
        first, created = services.place_order(user=user, item=item, client_key="k-123456789")
        again, created_again = services.place_order(user=user, item=item, client_key="k-123456789")
        assert first.pk == again.pk and (created, created_again) == (True, False)
        item.refresh_from_db()
        assert (item.stock, _totals(volunteer).balance) == (4, Decimal(90))
        with pytest.raises(DomainError) as exc:
            services.place_order(user=user, item=item, quantity=2, client_key="k-123456789")
        assert exc.value.code == "idempotency_key_reused"


class TestHandOverAndCancel:
    def _order(self, cast, volunteer, **item_fields):
        item = _item(cast, **item_fields)
        order, _ = services.place_order(user=cast.users["volunteer"], item=item, quantity=2)
        return item, order

    def test_hand_over_is_recorded_once(self, cast, volunteer):
        item, order = self._order(cast, volunteer)
        admin = cast.users["county_admin"]
        done = services.hand_over_order(actor=admin, order=order)
        assert (done.status, done.handed_over_by) == (OrderStatus.HANDED_OVER, admin)
        assert done.handed_over_at is not None
        before = _state(volunteer, item)
        for attempt in (
            lambda: services.hand_over_order(actor=admin, order=order),
            lambda: services.cancel_order(actor=admin, order=order, reason="晚了"),
        ):
            with pytest.raises(DomainError) as exc:
                attempt()
            assert exc.value.code == "already_handed_over"
        assert _state(volunteer, item) == before

    def test_cancel_refunds_and_restores_stock_once(self, cast, volunteer):
        item, order = self._order(cast, volunteer)
        earned = _totals(volunteer).earned
        services.cancel_order(actor=cast.users["volunteer"], order=order)
        item.refresh_from_db()
        order.refresh_from_db()
        assert item.stock == 5
        assert _totals(volunteer).balance == Decimal(100)
        assert _totals(volunteer).earned == earned  # the refund never moves the level either
        assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "队员本人取消")
        refund = PointsEntry.objects.get(key=f"order:{order.pk}:refund")
        assert (refund.amount, refund.earned) == (20, 0)
        before = _state(volunteer, item)
        with pytest.raises(DomainError) as exc:
            services.cancel_order(actor=cast.users["county_admin"], order=order, reason="重复")
        assert exc.value.code == "already_cancelled"
        assert _state(volunteer, item) == before

    def test_an_admin_cancels_with_a_reason(self, cast, volunteer):
        _, order = self._order(cast, volunteer)
        admin = cast.users["county_admin"]
        with pytest.raises(DomainError) as exc:
            services.cancel_order(actor=admin, order=order, reason="  ")
        assert exc.value.code == "reason_required"
        done = services.cancel_order(actor=admin, order=order, reason="物品质量问题，暂停兑换")
        assert (done.cancelled_by, done.cancel_reason) == (admin, "物品质量问题，暂停兑换")

    def test_the_members_captain_hands_over_but_does_not_cancel(self, cast, volunteer):
        _, order = self._order(cast, volunteer)
        with pytest.raises(DomainError) as exc:
            services.cancel_order(actor=cast.users["captain"], order=order, reason="x")
        assert exc.value.status == 403
        with pytest.raises(DomainError) as exc:
            services.hand_over_order(actor=cast.users["sibling_captain"], order=order)
        assert exc.value.status == 403
        assert services.hand_over_order(actor=cast.users["captain"], order=order).status == (
            OrderStatus.HANDED_OVER
        )


class TestItems:
    def test_bad_items_are_refused(self, cast):
        admin, zhuji = cast.users["county_admin"], cast.units["zhuji"]
        good = {"name": "雨伞", "price": 5, "stock": 1, "valid_from": _today()}
        before = CatalogueItem.objects.count()
        for bad, field in (
            ({"name": "  "}, "name"),
            ({"price": 0}, "price"),
            ({"stock": -1}, "stock"),
            ({"valid_until": _today() - timedelta(days=1)}, "valid_until"),
        ):
            with pytest.raises(DomainError) as exc:
                services.create_item(actor=admin, association=zhuji, data=ItemData(**good | bad))
            assert exc.value.field == field
        with pytest.raises(DomainError) as exc:
            services.create_item(
                actor=admin, association=cast.units["hongfeng"], data=ItemData(**good)
            )
        assert exc.value.code == "not_an_association"
        assert CatalogueItem.objects.count() == before

    def test_an_order_makes_an_open_edit_stale(self, cast, volunteer):
        item = _item(cast)
        read = item.version
        services.place_order(user=cast.users["volunteer"], item=item)
        with pytest.raises(DomainError) as exc:
            services.update_item(
                actor=cast.users["county_admin"],
                item=item,
                data=ItemData(name="新名字", price=10, stock=50, valid_from=item.valid_from),
                expected_version=read,
            )
        assert (exc.value.code, exc.value.status) == ("stale_version", 409)
        item.refresh_from_db()
        assert (item.name, item.stock) == ("测试手电筒", 4)


# —— the API: access rows for every endpoint ——


def _body(cast, association="zhuji", **extra):
    return {
        "association_id": cast.units[association].pk,
        "name": "接口测试物品",
        "price": 10,
        "stock": 3,
        "valid_from": str(_today()),
        **extra,
    }


class TestApiAccess:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("county_admin", 201),
            ("city_admin", 201),
            ("province_admin", 201),
            ("outsider", 404),
            ("volunteer", 403),
            ("captain", 403),
            ("station_officer", 403),
            ("system_admin", 403),
            ("security_admin", 403),
            ("auditor", 403),
        ],
    )
    def test_create_item(self, cast, api_as, who, status):
        before = CatalogueItem.objects.count()
        response = api_as(who).post("/catalogue/items", _body(cast))
        assert response.status_code == status, response.json()
        assert CatalogueItem.objects.count() == before + (status == 201)

    def test_create_item_bad_input_is_422_and_changes_nothing(self, cast, api_as):
        before = CatalogueItem.objects.count()
        api = api_as("county_admin")
        assert api.post("/catalogue/items", _body(cast, stock=-1)).status_code == 422
        assert api.post("/catalogue/items", _body(cast, price=0)).status_code == 422
        response = api.post(
            "/catalogue/items", _body(cast, valid_until=str(_today() - timedelta(days=1)))
        )
        assert (response.status_code, response.json()["field"]) == (400, "valid_until")
        assert CatalogueItem.objects.count() == before

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("county_admin", 200),
            ("province_admin", 200),
            ("outsider", 404),
            ("volunteer", 403),
            ("captain", 403),
            ("system_admin", 403),
            ("auditor", 403),
        ],
    )
    def test_update_item(self, cast, api_as, who, status):
        item = _item(cast)
        body = {
            "name": "改名",
            "price": 12,
            "stock": 9,
            "valid_from": str(_today()),
            "version": item.version,
        }
        response = api_as(who).put(f"/catalogue/items/{item.pk}", body)
        assert response.status_code == status, response.json()
        item.refresh_from_db()
        assert (item.name == "改名") is (status == 200)
        if status == 200:
            stale = api_as(who).put(f"/catalogue/items/{item.pk}", body)
            assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")

    def test_catalogue_is_the_members_associations_available_items(self, cast, api_as):
        ours = _item(cast, name="诸暨物品")
        sold_out = _item(cast, name="已兑完物品", stock=0)
        expired = _item(
            cast,
            name="过期物品",
            valid_from=_today() - timedelta(days=10),
            valid_until=_today() - timedelta(days=1),
        )
        theirs = _item(cast, association="xihu", admin="outsider", name="西湖物品")
        rows = api_as("volunteer").get("/catalogue", {"page_size": 200}).json()["items"]
        ids = {row["id"] for row in rows}
        assert {ours.pk, sold_out.pk} <= ids
        assert not {expired.pk, theirs.pk} & ids
        by_id = {row["id"]: row for row in rows}
        assert by_id[sold_out.pk]["available"] is False
        assert by_id[ours.pk]["available"] is True
        managed = api_as("outsider").get("/catalogue", {"manage": True, "page_size": 200})
        managed_ids = {row["id"] for row in managed.json()["items"]}
        assert theirs.pk in managed_ids and ours.pk not in managed_ids
        county = api_as("county_admin").get("/catalogue", {"manage": True, "page_size": 200})
        assert {ours.pk, expired.pk} <= {row["id"] for row in county.json()["items"]}
        assert api_as("auditor").get("/catalogue").json()["items"] == []

    def test_get_item_scope(self, cast, api_as):
        item = _item(cast)
        assert api_as("volunteer").get(f"/catalogue/items/{item.pk}").status_code == 200
        assert api_as("county_admin").get(f"/catalogue/items/{item.pk}").status_code == 200
        assert api_as("outsider").get(f"/catalogue/items/{item.pk}").status_code == 404
        assert api_as("auditor").get(f"/catalogue/items/{item.pk}").status_code == 404

    def test_place_order_over_the_api(self, cast, api_as, volunteer):
        item = _item(cast, stock=2)
        api = api_as("volunteer")
        key = uuid.uuid4().hex
        first = api.post("/orders", {"item_id": item.pk, "quantity": 1, "client_key": key})
        assert first.status_code == 201, first.json()
        body = first.json()
        assert (body["status"], body["points"], body["member"]["name"]) == ("reserved", 10, "张*")
        again = api.post("/orders", {"item_id": item.pk, "quantity": 1, "client_key": key})
        assert (again.status_code, again.json()["id"]) == (200, body["id"])
        more = api.post("/orders", {"item_id": item.pk, "quantity": 2})
        assert (more.status_code, more.json()["code"]) == (409, "out_of_stock")
        dear = _item(cast, price=500)
        poor = api.post("/orders", {"item_id": dear.pk})
        assert (poor.status_code, poor.json()["code"]) == (400, "insufficient_balance")
        item.refresh_from_db()
        assert item.stock == 1
        assert _totals(volunteer).balance == Decimal(90)
        assert api.post("/orders", {"item_id": item.pk, "quantity": 0}).status_code == 422
        assert api.post("/orders", {"item_id": item.pk, "quantity": 11}).status_code == 422
        mine = api.get("/me/orders").json()["items"]
        assert [row["id"] for row in mine if row["item"]["id"] == item.pk] == [body["id"]]

    @pytest.mark.parametrize("who", ["volunteer", "county_admin", "auditor", "outsider"])
    def test_another_associations_item_cannot_be_ordered(self, cast, api_as, who):
        item = _item(cast, association="xihu", admin="outsider")
        response = api_as(who).post("/orders", {"item_id": item.pk})
        expected = {"outsider": 400, "county_admin": 404, "auditor": 404, "volunteer": 404}[who]
        assert response.status_code == expected
        assert not Order.objects.filter(item=item).exists()

    @pytest.mark.parametrize(
        ("who", "status", "sees"),
        [
            ("county_admin", 200, True),
            ("province_admin", 200, True),
            ("captain", 200, True),
            ("outsider", 200, False),
            ("sibling_captain", 200, False),
            ("squad_leader", 403, False),
            ("volunteer", 403, False),
            ("system_admin", 403, False),
            ("security_admin", 403, False),
            ("auditor", 403, False),
        ],
    )
    def test_list_orders(self, cast, api_as, volunteer, who, status, sees):
        order, _ = services.place_order(user=cast.users["volunteer"], item=_item(cast))
        response = api_as(who).get("/orders", {"page_size": 200})
        assert response.status_code == status
        if status == 200:
            assert (order.pk in {row["id"] for row in response.json()["items"]}) is sees

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("county_admin", 200),
            ("province_admin", 200),
            ("captain", 200),
            ("outsider", 404),
            ("sibling_captain", 404),
            ("volunteer", 403),
            ("squad_leader", 403),
            ("station_officer", 403),
            ("system_admin", 403),
            ("security_admin", 403),
            ("auditor", 403),
        ],
    )
    def test_hand_over(self, cast, api_as, volunteer, who, status):
        order, _ = services.place_order(user=cast.users["volunteer"], item=_item(cast))
        response = api_as(who).post(f"/orders/{order.pk}/hand-over")
        assert response.status_code == status, response.json()
        order.refresh_from_db()
        assert (order.status == OrderStatus.HANDED_OVER) is (status == 200)
        if status == 200:
            again = api_as(who).post(f"/orders/{order.pk}/hand-over")
            assert (again.status_code, again.json()["code"]) == (409, "already_handed_over")

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("volunteer", 200),
            ("county_admin", 200),
            ("city_admin", 200),
            ("captain", 403),
            ("outsider", 404),
            ("sibling_captain", 404),
            ("squad_leader", 404),
            ("system_admin", 404),
            ("auditor", 404),
        ],
    )
    def test_cancel(self, cast, api_as, volunteer, who, status):
        item = _item(cast)
        order, _ = services.place_order(user=cast.users["volunteer"], item=item)
        response = api_as(who).post(f"/orders/{order.pk}/cancel", {"reason": "核对后取消"})
        assert response.status_code == status, response.json()
        item.refresh_from_db()
        assert (item.stock, _totals(volunteer).balance) == (
            (5, Decimal(100)) if status == 200 else (4, Decimal(90))
        )

    def test_another_members_order_is_not_found(self, cast, api_as, volunteer):
        order, _ = services.place_order(user=cast.users["volunteer"], item=_item(cast))
        other = Member.objects.filter(unit=cast.units["hongfeng_group1"]).exclude(pk=volunteer.pk)
        stranger = ApiClient(other.filter(status__in=SERVING).first().user)
        assert stranger.post(f"/orders/{order.pk}/cancel", {}).status_code == 404
        assert stranger.post(f"/orders/{order.pk}/hand-over").status_code == 403

    def test_lists_are_bounded(self, cast, api_as, volunteer, django_assert_max_num_queries):
        items = [_item(cast, name=f"物品{i}") for i in range(6)]
        for item in items:
            services.place_order(user=cast.users["volunteer"], item=item)
        admin, member = api_as("county_admin"), api_as("volunteer")
        for api, path, params in (
            (admin, "/orders", {"page_size": 50}),
            (admin, "/catalogue", {"manage": True, "page_size": 50}),
            (member, "/catalogue", {"page_size": 50}),
            (member, "/me/orders", {"page_size": 50}),
        ):
            with django_assert_max_num_queries(12):
                response = api.get(path, params)
            assert response.status_code == 200
            assert len(response.json()["items"]) >= 6


def test_every_redemption_write_leaves_an_audit_row(cast, api_as, volunteer):
    """T5 for the redemption endpoints: each write leaves an audit row with its request id."""
    seen = set()

    def call(who, method, path, data=None, template=None):
        api = api_as(who)
        before = AuditEvent.objects.count()
        response = getattr(api, method)(path, data if data is not None else {})
        assert response.status_code in (200, 201), (path, response.content[:300])
        assert AuditEvent.objects.count() > before, path
        assert AuditEvent.objects.filter(request_id=response["X-Request-ID"]).exists(), path
        seen.add(f"{method} /api/v1{template or path}")
        return response.json()

    item = call("county_admin", "post", "/catalogue/items", _body(cast))
    body = {k: v for k, v in _body(cast).items() if k != "association_id"}
    item = call(
        "county_admin",
        "put",
        f"/catalogue/items/{item['id']}",
        {**body, "stock": 5, "version": item["version"]},
        "/catalogue/items/{item_id}",
    )
    first = call("volunteer", "post", "/orders", {"item_id": item["id"]})
    second = call("volunteer", "post", "/orders", {"item_id": item["id"]})
    t = "/orders/{order_id}"
    call("county_admin", "post", f"/orders/{first['id']}/hand-over", None, t + "/hand-over")
    call("volunteer", "post", f"/orders/{second['id']}/cancel", {}, t + "/cancel")
    assert seen == REDEMPTION_WRITES


# —— pages ——


class TestPages:
    def test_points_page_links_the_catalogue(self, cast, page_as):
        response = page_as("volunteer").get("/points/")
        assert 'href="/redemption/"' in response.content.decode()

    def test_volunteer_redeems_on_the_catalogue_page(self, cast, page_as, volunteer):
        item = _item(cast, name="页面手电筒")
        client = page_as("volunteer")
        page = client.get("/redemption/").content.decode()
        assert "页面手电筒" in page and 'id="balance">100 ' in page and "data-confirm" in page
        assert "电影票" not in page  # the demo's expired item is not offered
        response = client.post(
            f"/redemption/items/{item.pk}/order/", {"quantity": 2, "client_key": "page-key-1"}
        )
        assert response.status_code == 302
        mine = client.get(response["Location"]).content.decode()
        assert "兑换成功" in mine and "页面手电筒 × 2" in mine and "待领取" in mine
        # A double tap (the same form posted again) orders nothing more.
        client.post(
            f"/redemption/items/{item.pk}/order/", {"quantity": 2, "client_key": "page-key-1"}
        )
        assert Order.objects.filter(item=item).count() == 1
        order = Order.objects.get(item=item)
        response = client.post(f"/redemption/orders/{order.pk}/cancel/")
        assert response.status_code == 302
        assert _totals(volunteer).balance == Decimal(100)

    def test_a_refusal_is_shown_beside_the_item(self, cast, page_as, volunteer):
        item = _item(cast, stock=1)
        response = page_as("volunteer").post(f"/redemption/items/{item.pk}/order/", {"quantity": 3})
        assert response.status_code == 409
        assert "库存不足" in response.content.decode()
        assert not Order.objects.filter(item=item).exists()

    def test_admin_adds_an_item_and_hands_over(
        self, cast, page_as, volunteer, django_assert_max_num_queries
    ):
        client = page_as("county_admin")
        form = client.get("/redemption/manage/items/new/").content.decode()
        assert "诸暨市义警协会" in form
        response = client.post(
            "/redemption/manage/items/new/",
            {
                "association": cast.units["zhuji"].pk,
                "name": "新雨伞",
                "price": 15,
                "stock": 4,
                "valid_from": str(_today()),
                "active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
        item = CatalogueItem.objects.get(name="新雨伞")
        bad = client.post(
            f"/redemption/manage/items/{item.pk}/edit/",
            {"name": "新雨伞", "price": 15, "stock": 4, "valid_from": str(_today()), "version": 99},
        )
        assert "已被他人修改" in bad.content.decode()
        order, _ = services.place_order(user=cast.users["volunteer"], item=item)
        with django_assert_max_num_queries(20):
            listing = client.get("/redemption/manage/orders/")
        assert f'id="order-{order.pk}"' in listing.content.decode()
        with django_assert_max_num_queries(20):
            assert "新雨伞" in client.get("/redemption/manage/items/").content.decode()
        client.post(f"/redemption/manage/orders/{order.pk}/hand-over/")
        order.refresh_from_db()
        assert order.status == OrderStatus.HANDED_OVER

    def test_admin_cancels_with_a_reason(self, cast, page_as, volunteer):
        order, _ = services.place_order(user=cast.users["volunteer"], item=_item(cast))
        client = page_as("county_admin")
        client.post(f"/redemption/manage/orders/{order.pk}/cancel/", {"reason": ""})
        order.refresh_from_db()
        assert order.status == OrderStatus.RESERVED
        client.post(f"/redemption/manage/orders/{order.pk}/cancel/", {"reason": "物品缺货"})
        order.refresh_from_db()
        assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "物品缺货")
        mine = page_as("volunteer").get("/redemption/orders/").content.decode()
        assert "物品缺货" in mine

    @pytest.mark.parametrize(
        ("who", "path", "status"),
        [
            ("volunteer", "/redemption/manage/items/", 403),
            ("volunteer", "/redemption/manage/orders/", 403),
            ("captain", "/redemption/manage/items/", 403),
            ("captain", "/redemption/manage/orders/", 200),
            ("auditor", "/redemption/manage/orders/", 403),
            ("county_admin", "/redemption/", 200),
        ],
    )
    def test_page_access(self, cast, page_as, who, path, status):
        assert page_as(who).get(path).status_code == status

    def test_out_of_scope_item_pages_are_404(self, cast, page_as):
        item = _item(cast, association="xihu", admin="outsider")
        client = page_as("county_admin")
        assert client.get(f"/redemption/manage/items/{item.pk}/edit/").status_code == 404
        assert page_as("volunteer").post(f"/redemption/items/{item.pk}/order/").status_code == 404


def test_demo_catalogue(cast):
    zhuji = CatalogueItem.objects.filter(association=cast.units["zhuji"])
    names = set(zhuji.values_list("name", flat=True))
    assert {"定制雨衣", "急救包", "义警马甲", "电影票"} <= names
    assert zhuji.get(name="义警马甲").stock == 0
    assert zhuji.get(name="电影票").valid_until < _today()
    statuses = set(Order.objects.filter(item__in=zhuji).values_list("status", flat=True))
    assert statuses == {OrderStatus.HANDED_OVER, OrderStatus.RESERVED}


# —— concurrency (PostgreSQL) ——

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer by design"
)


@postgres_only
def test_parallel_orders_never_take_stock_below_zero(live_cast):
    item = _item(live_cast, stock=3)
    members = list(
        Member.objects.filter(
            unit__path__startswith=live_cast.units["hongfeng"].path, status__in=SERVING
        ).order_by("pk")[:8]
    )
    assert len(members) == 8
    for member in members:
        _fund(member, 50)
    before = {m.pk: _totals(m).balance for m in members}
    results = []

    def work(i):
        try:
            results.append(services.place_order(user=members[i].user, item=item)[0].pk)
        except DomainError as exc:
            results.append(exc.code)

    assert in_threads(8, work) == []
    item.refresh_from_db()
    assert item.stock == 0
    assert sorted(r for r in results if isinstance(r, str)) == ["out_of_stock"] * 5
    orders = Order.objects.filter(item=item)
    assert orders.count() == 3
    spent = sum(before[m.pk] - _totals(m).balance for m in members)
    assert spent == 30  # exactly the three orders' points, nothing lost or doubled


@postgres_only
def test_parallel_orders_by_one_member_never_take_the_balance_below_zero(live_cast):
    member = _member(live_cast)
    _drain(member)
    _fund(member, 25)
    item = _item(live_cast, stock=10)
    user = live_cast.users["volunteer"]
    results = []

    def work(i):
        try:
            results.append(services.place_order(user=user, item=item)[0].pk)
        except DomainError as exc:
            results.append(exc.code)

    assert in_threads(6, work) == []
    item.refresh_from_db()
    assert _totals(member).balance == Decimal(5)
    assert item.stock == 8
    assert sorted(r for r in results if isinstance(r, str)) == ["insufficient_balance"] * 4
    assert Order.objects.filter(item=item).count() == 2
    from hongfeng.points.services import rebuild_totals

    assert rebuild_totals(member).balance == Decimal(5)  # the cache matches the ledger


@postgres_only
def test_parallel_cancel_and_hand_over_settle_once(live_cast):
    member = _member(live_cast)
    _drain(member)
    _fund(member, 40)
    item = _item(live_cast, stock=5)
    order, _ = services.place_order(user=live_cast.users["volunteer"], item=item, quantity=2)
    results = []

    def work(i):
        try:
            if i % 2:
                services.cancel_order(actor=live_cast.users["volunteer"], order=order)
            else:
                services.hand_over_order(actor=live_cast.users["county_admin"], order=order)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)

    assert in_threads(6, work) == []
    assert results.count("ok") == 1
    order.refresh_from_db()
    item.refresh_from_db()
    refunds = PointsEntry.objects.filter(key=f"order:{order.pk}:refund").count()
    if order.status == OrderStatus.CANCELLED:
        assert (item.stock, _totals(member).balance, refunds) == (5, Decimal(40), 1)
    else:
        assert (item.stock, _totals(member).balance, refunds) == (3, Decimal(20), 0)
