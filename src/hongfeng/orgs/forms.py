import re

from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.orgs.models import (
    ALLOWED_PARENT_KINDS,
    SPECIAL_GROUP_PARENT_KINDS,
    SpecialTag,
    UnitKind,
)
from hongfeng.orgs.services import GroupSpec, SquadSpec


def child_kinds(parent_kind: str | None) -> list[str]:
    """Kinds that may be created under a parent of this kind (5.1.2/5.1.3)."""
    kinds = [k for k, parents in ALLOWED_PARENT_KINDS.items() if parent_kind in parents]
    if parent_kind in SPECIAL_GROUP_PARENT_KINDS and UnitKind.GROUP not in kinds:
        kinds.append(UnitKind.GROUP)
    return kinds


class StationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


class UnitCreateForm(TablerFormMixin, forms.Form):
    kind = forms.ChoiceField(label="单位类型")
    name = forms.CharField(label="名称", max_length=100)
    guiding_station = StationChoiceField(
        label="指导派出所", queryset=None, required=False, empty_label="请选择（新建总队时必填）"
    )
    special_tag = forms.ChoiceField(
        label="特色小组", required=False, choices=[("", "否（普通小组）"), *SpecialTag.choices]
    )
    region_code = forms.CharField(
        label="行政区划代码",
        max_length=6,
        required=False,
        help_text="协会、公安机关可填6位行政区划代码，如 330681。",
    )

    def __init__(self, *args, parent_kind, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, UnitKind(k).label) for k in child_kinds(parent_kind)]
        self.fields["guiding_station"].queryset = stations


class UnitEditForm(TablerFormMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    guiding_station = StationChoiceField(label="指导派出所", queryset=None, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, stations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stations is None:
            del self.fields["guiding_station"]
        else:
            self.fields["guiding_station"].queryset = stations
            self.fields["guiding_station"].required = True


class MoveForm(TablerFormMixin, forms.Form):
    parent = forms.ChoiceField(label="新的上级单位")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "请选择")] + [
            (str(u.pk), f"{u.name}（{u.kind_display}）") for u in candidates
        ]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


_SPLIT = re.compile(r"[、,，;；]+")
_TAGS_BY_LABEL = {label: value for value, label in SpecialTag.choices}


def parse_squads(text: str) -> list[SquadSpec]:
    """One squad per line: `第一分队：第一小组、第二小组` (groups optional)."""
    squads = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        name, _, rest = line.replace(":", "：").partition("：")
        groups = [GroupSpec(g.strip()) for g in _SPLIT.split(rest) if g.strip()]
        squads.append(SquadSpec(name=name.strip(), groups=groups))
    return squads


def parse_special_groups(text: str) -> list[GroupSpec]:
    """One special group per line: `党员先锋岗：红枫党员先锋岗` (tag, then the group's name)."""
    groups = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        tag_label, _, name = line.replace(":", "：").partition("：")
        tag = _TAGS_BY_LABEL.get(tag_label.strip())
        if tag is None or not name.strip():
            names = "、".join(_TAGS_BY_LABEL)
            raise forms.ValidationError(f"第{number}行格式应为「类型：名称」，类型可选：{names}。")
        groups.append(GroupSpec(name=name.strip(), special_tag=tag))
    return groups


class OnboardForm(TablerFormMixin, forms.Form):
    name = forms.CharField(label="总队名称", max_length=100)
    guiding_station = StationChoiceField(label="指导派出所", queryset=None)
    squads = forms.CharField(
        label="分队与小组",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "第一分队：第一小组、第二小组\n第二分队：第三小组"}
        ),
        help_text="每行一个分队；冒号后列出该分队的小组，用顿号或逗号分隔。",
    )
    special_groups = forms.CharField(
        label="特色小组（直属总队）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "党员先锋岗：红枫党员先锋岗"}),
        help_text="每行一个，格式「类型：名称」。",
    )

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guiding_station"].queryset = stations

    def clean_squads(self):
        squads = parse_squads(self.cleaned_data["squads"])
        if len(squads) > 50:
            raise forms.ValidationError("一次最多录入50个分队。")
        return squads

    def clean_special_groups(self):
        return parse_special_groups(self.cleaned_data["special_groups"])
