"""Redemption page forms: they parse what people type; the rules stay in the services."""

from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.redemption.models import MAX_PRICE, MAX_QUANTITY, MAX_STOCK
from hongfeng.redemption.services import ItemData


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ItemForm(TablerFormMixin, forms.Form):
    association = forms.ChoiceField(label="提供协会")
    name = forms.CharField(label="物品名称", max_length=60)
    description = forms.CharField(
        label="说明",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="规格、领取地点和方式等，队员兑换前会看到。",
    )
    price = forms.IntegerField(label="所需积分（每件）", min_value=1, max_value=MAX_PRICE)
    stock = forms.IntegerField(
        label="库存", min_value=0, max_value=MAX_STOCK, help_text="下单即占用库存，取消后退回。"
    )
    valid_from = forms.DateField(label="兑换开始日期", widget=DateInput())
    valid_until = forms.DateField(
        label="兑换截止日期",
        required=False,
        widget=DateInput(),
        help_text="含当天；留空表示长期有效。",
    )
    active = forms.BooleanField(label="上架（队员可见、可兑换）", required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, associations=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["association"].choices = [(str(u.pk), u.name) for u in associations]
        if editing:
            # The association of an existing item does not change (its orders belong to it).
            del self.fields["association"]

    def data_for_service(self) -> ItemData:
        c = self.cleaned_data
        return ItemData(
            name=c["name"],
            description=c.get("description") or "",
            price=c["price"],
            stock=c["stock"],
            valid_from=c["valid_from"],
            valid_until=c.get("valid_until"),
            active=bool(c.get("active")),
        )


class OrderForm(forms.Form):
    quantity = forms.IntegerField(label="数量", min_value=1, max_value=MAX_QUANTITY, initial=1)
    client_key = forms.CharField(max_length=80, required=False)


class CancelForm(TablerFormMixin, forms.Form):
    reason = forms.CharField(
        label="取消原因",
        max_length=200,
        help_text="队员会在「我的兑换」中看到；积分将全额退回，库存恢复。",
    )
