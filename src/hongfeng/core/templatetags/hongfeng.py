"""Chinese-first formatting (ui.md): 2026年11月29日（周日）14:30, counts with units, masking."""

from django import template
from django.utils import timezone

from hongfeng.core import masking

register = template.Library()

_WEEKDAYS = "一二三四五六日"


@register.filter
def cn_datetime(value):
    if not value:
        return ""
    local = timezone.localtime(value)
    return (
        f"{local.year}年{local.month}月{local.day}日（周{_WEEKDAYS[local.weekday()]}）{local:%H:%M}"
    )


@register.filter
def cn_date(value):
    if not value:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def mask_mobile(value):
    return masking.mask_mobile(value)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (pagination keeps filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


# ui.md: the same colours everywhere — grey draft/ended, blue in progress, green done/good,
# orange flagged, red overdue or stopped.
_STATUS_COLOURS = {
    "probation": "blue",
    "active": "green",
    "core": "green",
    "inactive": "orange",
    "demoted": "orange",
    "suspended": "red",
    "exited": "secondary",
    # activities
    "draft": "secondary",
    "published": "blue",
    "in_progress": "blue",
    "finished": "green",
    "evaluated": "green",
    "cancelled": "red",
    # sign-ups, check-ins and their reviews
    "confirmed": "green",
    "waitlisted": "blue",
    "declined": "secondary",
    "flagged": "orange",
    "accepted": "green",
    "rejected": "red",
}
_DIFFICULTY_COLOURS = {
    "normal": "secondary",
    "harder": "blue",
    "hard": "orange",
    "high_risk": "red",
}


@register.simple_tag
def status_badge(value, label):
    from django.utils.html import format_html

    colour = _STATUS_COLOURS.get(str(value), "secondary")
    return format_html('<span class="badge bg-{}-lt">{}</span>', colour, label)


@register.simple_tag
def difficulty_badge(value, label):
    from django.utils.html import format_html

    colour = _DIFFICULTY_COLOURS.get(str(value), "secondary")
    return format_html('<span class="badge bg-{}-lt">难度：{}</span>', colour, label)


@register.simple_tag(takes_context=True)
def clause(context, number: str, note: str = "") -> str:
    """「（5.2.6）」 after a heading, for staff only: volunteers and the public read the page
    without the standard's clause numbers (issue 15, 5.6); staff see which clause it serves."""
    user = context.get("user")
    if user is None or not user.is_authenticated or context.get("is_volunteer_only", True):
        return ""
    return f"（{number}{' ' + note if note else ''}）"


@register.filter
def cn_hours(value):
    """2.50 → "2.5 小时"; None → "0 小时"."""
    from decimal import Decimal

    number = Decimal(str(value or 0)).quantize(Decimal("0.01"))
    text = f"{number:f}".rstrip("0").rstrip(".") if "." in f"{number:f}" else f"{number:f}"
    return f"{text} 小时"


@register.filter
def cn_month(value):
    if not value:
        return ""
    return f"{value.year}年{value.month}月"


@register.filter
def masked(value):
    return masking.mask_name(value)


@register.filter
def get_item(mapping, key):
    """`mine|get_item:a.pk` — a dict lookup in templates."""
    return (mapping or {}).get(key)


@register.filter
def index(sequence, position):
    """`levels|index:forloop.counter0` — the item at a position (a column's header for its
    cell's data-label in a `table.hf-cards`); "" when out of range."""
    try:
        return sequence[int(position)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def distance_label(metres):
    """850 → "约 850 米"; 2345 → "约 2.3 公里"."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"约 {metres:.0f} 米"
    return f"约 {metres / 1000:.1f} 公里"


@register.filter(is_safe=True)
def nowrap(value):
    """`{{ day|cn_date|nowrap }}`: kept on one line. Chinese text may break between any two
    characters, and WeasyPrint broke dates in narrow PDF cells (「2026年12月8 / 日」)."""
    from django.utils.html import conditional_escape, format_html

    if value in (None, ""):
        return ""
    return format_html('<span style="white-space: nowrap">{}</span>', conditional_escape(value))
