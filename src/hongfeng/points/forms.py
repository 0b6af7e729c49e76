"""The form behind 积分规则 (a new version of an association's points rule, 5.4.5)."""

from django import forms

from hongfeng.core.forms import TablerFormMixin
from hongfeng.points import rules

FACTOR = {"min_value": 0, "max_value": 100, "max_digits": 6, "decimal_places": 2}


def _factor(label: str) -> forms.DecimalField:
    widget = forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
    return forms.DecimalField(label=label, widget=widget, **FACTOR)


class RuleForm(TablerFormMixin, forms.Form):
    """Per-hour points, one factor per difficulty and per quality, effective time and note.
    The factor keys are the ones the API takes (`difficulty.normal`, `quality.excellent` …)."""

    per_hour = _factor("每小时积分")
    effective_from = forms.DateTimeField(
        label="生效时间",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="不填则发布后立即生效；可提前设定，最多一年。不能早于现在。",
    )
    note = forms.CharField(label="说明（可选）", max_length=200, required=False)
    digest = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in rules.DIFFICULTY_LABELS.items():
            self.fields[f"difficulty_{key}"] = _factor(f"难度「{label}」")
        for key, label in rules.QUALITY_LABELS.items():
            self.fields[f"quality_{key}"] = _factor(f"质量「{label}」")
        # TablerFormMixin styled the fields it saw; style the factors added since.
        for name in self.fields:
            self.fields[name].widget.attrs.setdefault("class", "form-control")

    @staticmethod
    def initial_for(coefficients: rules.Coefficients) -> dict:
        """The form pre-filled with the rule in force (the admin edits what changes)."""
        initial = {"per_hour": rules.plain(coefficients.per_hour)}
        initial.update(
            {f"difficulty_{k}": rules.plain(v) for k, v in coefficients.difficulty.items()}
        )
        initial.update({f"quality_{k}": rules.plain(v) for k, v in coefficients.quality.items()})
        return initial

    @property
    def difficulty_fields(self) -> list:
        return [self[f"difficulty_{key}"] for key in rules.DIFFICULTY_LABELS]

    @property
    def quality_fields(self) -> list:
        return [self[f"quality_{key}"] for key in rules.QUALITY_LABELS]

    def factors(self, group: str) -> dict[str, str]:
        labels = rules.DIFFICULTY_LABELS if group == "difficulty" else rules.QUALITY_LABELS
        return {key: str(self.cleaned_data[f"{group}_{key}"]) for key in labels}

    def error_field(self, domain_field: str | None) -> str | None:
        """Where a service error shows: next to its field; one about all the difficulty (or
        quality) factors at the first of them; anything else above the form."""
        first = {"difficulty": "difficulty_normal", "quality": "quality_excellent"}
        if domain_field in first:
            return first[domain_field]
        return domain_field if domain_field in self.fields else None
