"""Activity page forms: they parse what people type; every rule stays in the services (the
errors they raise are shown next to the field they name)."""

from django import forms

from hongfeng.activities.models import (
    ActivityKind,
    CheckInKind,
    Difficulty,
    Effect,
    ReviewDecision,
)
from hongfeng.activities.services import ActivityData
from hongfeng.core.forms import TablerFormMixin
from hongfeng.members.models import Category, EquipmentKind, Skill

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def _datetime(label: str, *, required: bool = True) -> forms.DateTimeField:
    # Interpreted in the current time zone (Asia/Shanghai) by Django's DateTimeField.
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=DateTimeLocalInput(),
    )


def _checkboxes(label: str, help_text: str = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
    )


class ActivityForm(TablerFormMixin, forms.Form):
    unit = forms.ChoiceField(label="发布单位")
    audience_unit = forms.ChoiceField(
        label="面向单位", required=False, help_text="该单位及其下级的队员可报名；默认为发布单位。"
    )
    kind = forms.ChoiceField(label="活动类型", choices=ActivityKind.choices)
    pre_job_training = forms.BooleanField(
        label="岗前培训",
        required=False,
        help_text="仅培训类活动可选：还没有完成岗前培训的见习队员也能收到通知并报名（5.3.1）。",
    )
    title = forms.CharField(label="标题", max_length=80)
    description = forms.CharField(
        label="活动内容",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    place = forms.CharField(label="地点", max_length=120)
    latitude = forms.FloatField(
        label="纬度", min_value=-90, max_value=90, help_text="签到地理围栏的中心，如 29.6263。"
    )
    longitude = forms.FloatField(label="经度", min_value=-180, max_value=180)
    radius_m = forms.IntegerField(label="签到范围（米）", min_value=20, max_value=5000, initial=300)
    starts_at = _datetime("开始时间")
    ends_at = _datetime("结束时间")
    capacity = forms.IntegerField(label="名额（人）", min_value=1, max_value=100000)
    waitlist_limit = forms.IntegerField(
        label="候补名额（人）", min_value=0, max_value=100000, initial=50
    )
    difficulty = forms.ChoiceField(label="难度", choices=Difficulty.choices)
    core_only = forms.BooleanField(label="仅限核心队员", required=False)
    required_skills = _checkboxes("所需技能", "高风险任务：报名者须具备全部所选技能。")
    audience_skills = _checkboxes("面向技能", "只通知具备其中任一技能的队员；不选则不限。")
    audience_categories = _checkboxes("面向人员类别", "不选则不限。")
    required_equipment = _checkboxes("所需装备")
    risk_assessment = forms.CharField(
        label="安全风险评估",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="已按活动类型填入本协会的默认评估，请按本次活动的实际情况修改；"
        "每个活动发布前都必须填写（5.4.7）。",
    )

    def __init__(self, *args, units, audience_units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, _unit_label(u)) for u in units]
        self.fields["audience_unit"].choices = [("", "与发布单位相同")] + [
            (u.pk, _unit_label(u)) for u in audience_units
        ]
        skills = list(Skill.objects.values_list("code", "name"))
        self.fields["required_skills"].choices = skills
        self.fields["audience_skills"].choices = skills
        self.fields["audience_categories"].choices = Category.choices
        self.fields["required_equipment"].choices = EquipmentKind.choices

    def activity_data(self) -> ActivityData:
        data = self.cleaned_data
        return ActivityData(
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            place=data["place"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            radius_m=data["radius_m"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            capacity=data["capacity"],
            waitlist_limit=data["waitlist_limit"],
            difficulty=data["difficulty"],
            core_only=data["core_only"],
            audience_skills=list(data["audience_skills"]),
            audience_categories=list(data["audience_categories"]),
            required_skills=list(data["required_skills"]),
            required_equipment=list(data["required_equipment"]),
            risk_assessment=data["risk_assessment"],
            pre_job_training=data["pre_job_training"],
        )


def _unit_label(unit) -> str:
    return f"{unit.name}（{unit.kind_display}）"


class ReasonForm(TablerFormMixin, forms.Form):
    reason = forms.CharField(label="取消原因", max_length=200)
    confirm = forms.BooleanField(label="我确认取消该活动，并通知已报名的队员（不可撤销）")


class ReviewForm(TablerFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="审核结论",
        choices=ReviewDecision.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="理由", max_length=200)


class ManualCheckInForm(TablerFormMixin, forms.Form):
    member = forms.ChoiceField(label="队员")
    kind = forms.ChoiceField(label="类型", choices=CheckInKind.choices)
    at = _datetime("时间（不填为现在）", required=False)
    reason = forms.CharField(label="补签原因", max_length=200)

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = participants


class EvaluateForm(TablerFormMixin, forms.Form):
    effect = forms.ChoiceField(label="活动成效", choices=Effect.choices)
    summary = forms.CharField(
        label="成效评估", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CorrectionForm(TablerFormMixin, forms.Form):
    member = forms.ChoiceField(label="队员")
    hours = forms.DecimalField(
        label="更正后的时长（小时）", min_value=0, max_value=168, decimal_places=2
    )
    reason = forms.CharField(label="更正原因", max_length=200)

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = participants


class AttendanceForm(TablerFormMixin, forms.Form):
    team = forms.ChoiceField(label="总队")
    month = forms.CharField(
        label="月份",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "年-月，如 2026-11"}),
        help_text="已结束的月份，如 2026-10。重复发布会生成新版本。",
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
