"""积分兑换 pages. For volunteers on a phone: the catalogue with my balance and a 兑换 button,
my orders (cancel while waiting). For association staff at a desk: the items of the
catalogues they keep (add, edit) and the orders to hand over or cancel; captains hand over
their team's orders. Thin: read through the selectors, call one service, render."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hongfeng.accounts import access
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, flash_domain_error, paginate
from hongfeng.members.selectors import own_member
from hongfeng.points import selectors as points_selectors
from hongfeng.redemption import forms, selectors, services
from hongfeng.redemption.models import OrderStatus

PER_PAGE = 30


def _catalogue_context(request, member) -> dict:
    items = list(selectors.catalogue_for(member))
    summary = points_selectors.summary(member) if member else None
    balance = summary["balance"] if summary else 0
    for item in items:
        # One fresh request id per item form: a double tap or a retried POST orders once.
        item.client_key = uuid.uuid4().hex
        item.shortfall = max(item.price - balance, 0)
    return {
        "member": member,
        "summary": summary,
        "items": items,
        "manages": access.has_capability(request.user, "redemption.manage"),
        "handles": selectors.can_handle_orders(request.user),
    }


@login_required
def catalogue(request):
    member = own_member(request.user)
    context = _catalogue_context(request, member)
    if member is None and not context["handles"]:
        return render(request, "members/no_file.html")
    return render(request, "redemption/catalogue.html", context)


@login_required
@require_POST
def order(request, item_id):
    item = services.get_item_for_user(request.user, item_id)
    form = forms.OrderForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("数量须为 1 到 10 之间的整数。", code="invalid_quantity")
        placed, _created = services.place_order(
            user=request.user,
            item=item,
            quantity=form.cleaned_data["quantity"],
            client_key=form.cleaned_data.get("client_key") or "",
        )
    except DomainError as exc:
        context = _catalogue_context(request, own_member(request.user))
        context.update(error_item=item.pk, action_error=exc.message)
        return render(request, "redemption/catalogue.html", context, status=exc.status)
    messages.success(
        request,
        f"兑换成功：「{item.name}」× {placed.quantity}，已扣除 {placed.points} 分。"
        "请按物品说明领取；领取前可以取消，积分会全额退回。",
    )
    return redirect("redemption:mine")


@login_required
def mine(request):
    member = own_member(request.user)
    if member is None:
        return render(request, "members/no_file.html")
    return render(
        request,
        "redemption/mine.html",
        {
            "summary": points_selectors.summary(member),
            "page": paginate(request, selectors.my_orders(member), PER_PAGE),
        },
    )


@login_required
@require_POST
def cancel_mine(request, order_id):
    found = selectors.get_order_for_user(request.user, order_id)
    if found.member.user_id != request.user.pk:
        raise PermissionDenied("这不是您的订单。")
    try:
        services.cancel_order(actor=request.user, order=found, reason="")
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, f"已取消，{found.points} 分已退回您的余额。")
    return redirect("redemption:mine")


# —— at a desk: the catalogue's keepers ——


def _require_manager(request) -> None:
    if not access.has_capability(request.user, "redemption.manage"):
        raise PermissionDenied("只有协会管理员可以维护兑换物品。")


@login_required
def items(request):
    _require_manager(request)
    return render(
        request,
        "redemption/items.html",
        {
            "page": paginate(request, selectors.managed_items(request.user), PER_PAGE),
            "today": timezone.localdate(),
        },
    )


@login_required
def item_new(request):
    _require_manager(request)
    associations = list(selectors.managed_associations(request.user)[:500])
    form = forms.ItemForm(
        request.POST or None,
        associations=associations,
        initial={"association": associations[0].pk if associations else None, "active": True},
    )
    if request.method == "POST" and form.is_valid():
        by_id = {u.pk: u for u in associations}
        try:
            item = services.create_item(
                actor=request.user,
                association=by_id[int(form.cleaned_data["association"])],
                data=form.data_for_service(),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已新增兑换物品「{item.name}」。")
            return redirect("redemption:items")
    return render(request, "redemption/item_form.html", {"form": form, "item": None})


@login_required
def item_edit(request, item_id):
    _require_manager(request)
    item = services.get_item_for_user(request.user, item_id, manage=True)
    initial = {
        "name": item.name,
        "description": item.description,
        "price": item.price,
        "stock": item.stock,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
        "active": item.active,
        "version": item.version,
    }
    form = forms.ItemForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_item(
                actor=request.user,
                item=item,
                data=form.data_for_service(),
                expected_version=form.cleaned_data.get("version") or 0,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已保存「{form.cleaned_data['name']}」。")
            return redirect("redemption:items")
    return render(request, "redemption/item_form.html", {"form": form, "item": item})


# —— at a desk: orders to hand over ——


@login_required
def orders(request):
    if not selectors.can_handle_orders(request.user):
        raise PermissionDenied("您无权处理兑换订单。")
    status = request.GET.get("status", OrderStatus.RESERVED)
    if status not in OrderStatus.values:
        status = ""
    rows = selectors.orders_to_handle(request.user, status=status or None)
    return render(
        request,
        "redemption/orders.html",
        {
            "page": paginate(request, rows, PER_PAGE),
            "status": status,
            "statuses": OrderStatus.choices,
            "manages": access.has_capability(request.user, "redemption.manage"),
        },
    )


@login_required
@require_POST
def hand_over(request, order_id):
    if not selectors.can_handle_orders(request.user):
        raise PermissionDenied("您无权处理兑换订单。")
    found = selectors.get_order_for_user(request.user, order_id)
    try:
        services.hand_over_order(actor=request.user, order=found)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, f"已记录交付：订单 {found.pk}「{found.item.name}」。")
    return redirect(f"{_orders_url()}?status={OrderStatus.RESERVED}")


@login_required
@require_POST
def cancel(request, order_id):
    if not selectors.can_handle_orders(request.user):
        raise PermissionDenied("您无权处理兑换订单。")
    found = selectors.get_order_for_user(request.user, order_id)
    form = forms.CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写取消原因（不超过 200 字），队员会看到。")
        return redirect(f"{_orders_url()}?status={OrderStatus.RESERVED}")
    try:
        services.cancel_order(actor=request.user, order=found, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, f"已取消订单 {found.pk}，{found.points} 分已退回队员余额。")
    return redirect(f"{_orders_url()}?status={OrderStatus.RESERVED}")


def _orders_url() -> str:
    return reverse("redemption:orders")
