from django import forms
from django.contrib import messages
from django.core.paginator import Paginator

from hongfeng.core.errors import DomainError

CHOICES_TEMPLATE = "core/widgets/choices.html"


class TablerFormMixin:
    """Tabler/Bootstrap classes on every widget, so templates stay plain. Checkbox groups and
    radio buttons render as wrapping chips (core/widgets/choices.html): Django's own markup puts
    the input's class on the group's <div> too, which collapsed the group to a one-character
    column on the publish form (issue 15, 5.1)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):  # CheckboxSelectMultiple included
                widget.template_name = CHOICES_TEMPLATE
                widget.attrs["class"] = "form-check-input"
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            widget.attrs.setdefault("class", css)

    def add_error(self, field, error):
        super().add_error(field, error)
        # Mark every field that now has an error, for screen readers as well as the eye.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"


def raise_refusal(exc: DomainError) -> None:
    """Re-raise a refusal the page must not swallow: a refusal of the action itself (403) or of
    the record (404) is no message to show on the page. Raised again, it reaches
    `DomainErrorMiddleware`, which answers with the error page and that status — as the API
    does (issue 15, 2.8)."""
    if exc.status in (403, 404):
        raise exc


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's error next to the field that caused it (or above the form); a 403 or
    404 becomes the error page with its status instead."""
    raise_refusal(exc)
    field = exc.field if exc.field in form.fields else None
    if field is not None and form.fields[field].widget.is_hidden:
        field = None  # e.g. a stale version: say it above the form, where it is seen
    form.add_error(field, exc.message)


def flash_domain_error(request, exc: DomainError) -> None:
    """Show a service's error as a message on the page the view redirects to (for buttons
    without a form to redisplay); a 403 or 404 becomes the error page with its status instead.
    Every page view that runs a service and catches its DomainError ends here or in
    `add_domain_error`."""
    raise_refusal(exc)
    messages.error(request, exc.message)


def paginate(request, queryset, per_page: int = 50):
    """A page of results; an out-of-range or malformed page number gives the nearest page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
