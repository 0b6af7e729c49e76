"""Sections of the member file (一人一档, clause 5.2.7: "…service history, points, honours,
warnings…") that other domains fill in.

Members sits below points and honours in the layering (architecture.md), so the member file
page, "我的档案" and the file's PDF cannot import them. Each domain registers its section from
its AppConfig.ready(); the members views render whatever is registered, in order.

A provider is called as `provider(member=…, viewer=…)` for a member the viewer may already see
(the members views fetched it through `get_member_for_user`); it applies its own domain's
rules on top (a station officer may see a file but not its honours) and returns the section's
template context, or None to leave the section out for this viewer. Providers keep their
queries few and fixed: the file page is bounded by a query-count test.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

Provider = Callable[..., dict | None]


@dataclass(frozen=True)
class Section:
    """One registered part of the member file."""

    key: str
    order: int
    title: str
    provider: Provider
    template: str  # a fragment for the page: the inside of a Tabler card
    pdf_template: str  # a fragment for the PDF: tables and paragraphs under the title


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: str
    html: SafeString


_sections: dict[str, Section] = {}


def register_section(
    key: str, *, order: int, title: str, provider: Provider, template: str, pdf_template: str
) -> None:
    """Called from a domain's AppConfig.ready(); registering a key again replaces it (the
    development server reloads apps)."""
    _sections[key] = Section(key, order, title, provider, template, pdf_template)


def registered() -> list[Section]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def render_sections(*, member, viewer, pdf: bool = False) -> list[RenderedSection]:
    """Every section this viewer may see, rendered for the page or for the PDF. Fragments
    are rendered without the request: the context processors (navigation, unread count)
    would run again for each one, and a fragment holds no form."""
    rendered = []
    for section in registered():
        context = section.provider(member=member, viewer=viewer)
        if context is None:
            continue
        context = {**context, "member": member, "viewer": viewer, "section_title": section.title}
        template = section.pdf_template if pdf else section.template
        html = render_to_string(template, context)
        rendered.append(RenderedSection(section.key, section.title, SafeString(html)))
    return rendered
