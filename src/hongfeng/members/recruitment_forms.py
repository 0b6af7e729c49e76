from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.members.models import Skill


class ApplicationForm(TablerFormMixin, forms.Form):
    name = forms.CharField(label="真实姓名", max_length=30)
    id_number = forms.CharField(
        label="身份证号",
        max_length=30,
        help_text="加密保存，仅用于实名登记；出生日期与性别由此得出。",
    )
    mobile = forms.CharField(
        label="手机号",
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
        help_text="审核通过后即为登录账号。",
    )
    password = forms.CharField(
        label="设置登录密码",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="再次输入密码",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    preferred_unit = forms.ChoiceField(label="希望加入的分队/小组", required=False)
    skills = forms.MultipleChoiceField(
        label="专业技能", required=False, widget=forms.CheckboxSelectMultiple
    )
    motivation = forms.CharField(
        label="申请说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    charter_version = forms.IntegerField(widget=forms.HiddenInput)
    charter_accepted = forms.BooleanField(
        label="我已阅读并同意上方的队伍章程与行为规范", required=False
    )
    privacy_accepted = forms.BooleanField(
        label="我已阅读并同意《个人信息处理告知书》", required=False
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_unit"].choices = [("", "由总队安排")] + [
            (str(u.pk), f"{u.parent.name} · {u.name}" if u.kind == "group" else u.name)
            for u in units
        ]
        self.fields["skills"].choices = list(Skill.objects.values_list("code", "name"))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "两次输入的密码不一致。")
        return data


class LookupForm(TablerFormMixin, forms.Form):
    code = forms.CharField(label="申请编号", max_length=12)
    mobile = forms.CharField(
        label="手机号", max_length=30, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )


class ApproveForm(TablerFormMixin, forms.Form):
    unit = forms.ChoiceField(label="编入单位")

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [
            (str(u.pk), u.name if u.kind != "group" else f"{u.parent.name} · {u.name}")
            for u in units
        ]


class RejectForm(TablerFormMixin, forms.Form):
    reason = forms.CharField(label="未通过原因（申请人可见）", max_length=200)


class CharterForm(TablerFormMixin, forms.Form):
    joining_conditions = forms.CharField(
        label="入队条件", max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    rights_and_duties = forms.CharField(
        label="权利与义务", max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    exit_rules = forms.CharField(
        label="退出机制", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    code_of_conduct = forms.CharField(
        label="行为规范", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
