from datetime import date

from django import template

register = template.Library()


@register.filter
def iso_date(value):
    """A snapshot's ISO date ("2026-11-01") as 2026年11月1日."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return value or ""
    return f"{day.year}年{day.month}月{day.day}日"
