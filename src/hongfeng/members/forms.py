from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.members.models import (
    STATUS_FLOW,
    Category,
    EquipmentKind,
    MemberStatus,
    PoliticalStatus,
    Skill,
)
from hongfeng.members.services import (
    PRIVACY_NOTICE_VERSION,
    MemberData,
)


class DateInput(forms.DateInput):
    input_type = "date"


class MemberForm(TablerFormMixin, forms.Form):
    political_status = forms.ChoiceField(label="政治面貌", choices=PoliticalStatus.choices)
    category = forms.ChoiceField(label="人员类别", choices=Category.choices)
    skills = forms.MultipleChoiceField(
        label="专业技能", required=False, widget=forms.CheckboxSelectMultiple
    )
    address = forms.CharField(label="住址", max_length=200, required=False)
    emergency_contact = forms.CharField(label="紧急联系人", max_length=50, required=False)
    emergency_mobile = forms.CharField(label="紧急联系电话", max_length=30, required=False)
    health_fit = forms.BooleanField(label="身体状况适合参加服务", required=False, initial=True)
    health_declaration = forms.CharField(
        label="健康声明",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="加密保存；除本人外，他人查看须说明原因并留痕。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skills"].choices = list(Skill.objects.values_list("code", "name"))

    def member_data(self) -> MemberData:
        data = self.cleaned_data
        return MemberData(
            address=data["address"],
            emergency_contact=data["emergency_contact"],
            emergency_mobile=data["emergency_mobile"],
            health_fit=data["health_fit"],
            health_declaration=data["health_declaration"],
            political_status=data["political_status"],
            category=data["category"],
            skills=list(data["skills"]),
        )


class RegisterForm(MemberForm):
    name = forms.CharField(label="真实姓名", max_length=30)
    id_number = forms.CharField(label="身份证号", max_length=30)
    mobile = forms.CharField(
        label="手机号", max_length=30, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    joined_on = forms.DateField(label="入队日期", required=False, widget=DateInput)
    consent = forms.BooleanField(
        label="已取得本人同意按《个人信息处理告知书》处理其个人信息",
        help_text=f"告知书版本 {PRIVACY_NOTICE_VERSION}；同意记录与时间将存档。",
    )
    field_order = ["name", "id_number", "mobile", "joined_on"]


class EditForm(MemberForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, private: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not private:
            del self.fields["health_declaration"]
            del self.fields["emergency_mobile"]


class ContactForm(TablerFormMixin, forms.Form):
    address = forms.CharField(label="住址", max_length=200, required=False)
    emergency_contact = forms.CharField(label="紧急联系人", max_length=50, required=False)
    emergency_mobile = forms.CharField(
        label="紧急联系电话",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class StatusForm(TablerFormMixin, forms.Form):
    status = forms.ChoiceField(label="新状态")
    reason = forms.CharField(label="原因", max_length=200)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s, MemberStatus(s).label) for s in MemberStatus.values if s in STATUS_FLOW[current]
        ]


class RevealForm(TablerFormMixin, forms.Form):
    field = forms.ChoiceField(
        choices=[
            ("id_number", "身份证号"),
            ("mobile", "手机号"),
            ("health_declaration", "健康声明"),
        ],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label="查看原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "必填，将记入审计"}),
    )


class CertificateForm(TablerFormMixin, forms.Form):
    name = forms.CharField(label="证书名称", max_length=80)
    issuer = forms.CharField(label="发证机构", max_length=80)
    number = forms.CharField(label="证书编号", max_length=60, required=False)
    issued_on = forms.DateField(label="发证日期", required=False, widget=DateInput)
    expires_on = forms.DateField(label="有效期至", required=False, widget=DateInput)


class InsuranceForm(TablerFormMixin, forms.Form):
    insurer = forms.CharField(label="保险公司", max_length=80)
    policy_number = forms.CharField(label="保单号", max_length=60)
    starts_on = forms.DateField(label="起保日期", widget=DateInput)
    ends_on = forms.DateField(label="终止日期", widget=DateInput)


class EquipmentForm(TablerFormMixin, forms.Form):
    kind = forms.ChoiceField(label="装备", choices=EquipmentKind.choices)
    description = forms.CharField(label="说明", max_length=80, required=False)
    issued_on = forms.DateField(label="发放日期", widget=DateInput)
