from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.honours.models import ThresholdKind

# A member picker lists at most this many (a team's serving members fit).
MEMBER_CHOICES = 500


def chosen(rows, raw):
    """The row a choice field's cleaned value names (its choices were built from `rows`)."""
    return next((r for r in rows if str(r.pk) == str(raw)), None)


class StatementForm(TablerFormMixin, forms.Form):
    start = forms.DateField(label="起始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="截止日期", widget=forms.DateInput(attrs={"type": "date"}))


class MemberStatementForm(StatementForm):
    member = forms.ChoiceField(label="队员")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, f"{m.name}（{m.unit.name}）") for m in members]
        self.order_fields(["member", "start", "end"])


class GrantForm(TablerFormMixin, forms.Form):
    member = forms.ChoiceField(label="队员")
    title = forms.ChoiceField(label="荣誉称号")
    reason = forms.CharField(label="授予事由", max_length=200)

    def __init__(self, *args, members=(), titles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, f"{m.name}（{m.unit.name}）") for m in members]
        self.fields["title"].choices = [(t.pk, f"{t.name}（{t.association.name}）") for t in titles]


class TitleForm(TablerFormMixin, forms.Form):
    association = forms.ChoiceField(label="协会")
    name = forms.CharField(label="称号名称", max_length=40)
    threshold_kind = forms.ChoiceField(label="授予方式", choices=ThresholdKind.choices)
    threshold_value = forms.DecimalField(
        label="门槛（小时或积分）", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    description = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, associations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["association"].choices = [(a.pk, a.name) for a in associations]


class WarningForm(TablerFormMixin, forms.Form):
    member = forms.ChoiceField(label="队员")
    reason = forms.CharField(label="警告事由", max_length=300)
    evidence = forms.CharField(
        label="证据说明", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_ref = forms.CharField(
        label="证据材料（存放位置或编号，可选）", max_length=200, required=False
    )
    penalty_points = forms.DecimalField(
        label="扣减积分（可选）", required=False, min_value=0, max_value=1000, decimal_places=2
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, f"{m.name}（{m.unit.name}）") for m in members]


class DecisionForm(TablerFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="决定", choices=[("confirm", "确认退出"), ("reject", "不予退出")]
    )
    reason = forms.CharField(label="理由", max_length=150)


class ViolationRuleForm(TablerFormMixin, forms.Form):
    """An association's rule for proposing exit (5.2.10); the names are the API's fields."""

    warnings = forms.IntegerField(
        label="第几次警告时建议退出",
        min_value=1,
        max_value=10,
        help_text="1 到 10 次。默认第 2 次。",
    )
    window_months = forms.IntegerField(
        label="统计期间（月）",
        min_value=1,
        max_value=60,
        help_text="只数这段时间内的警告，1 到 60 个月。默认 12 个月。",
    )
