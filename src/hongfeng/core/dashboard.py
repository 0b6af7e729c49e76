"""The home page's cards: for each thing the user is responsible for, the real counts, each
linking to the records behind it (ui.md)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import LoginThrottle, Role, RoleAssignment
from hongfeng.orgs import selectors as org_selectors
from hongfeng.orgs.models import UnitKind


@dataclass
class Stat:
    label: str
    value: int
    unit: str
    url: str


@dataclass
class Card:
    title: str
    subtitle: str
    url: str | None = None
    stats: list[Stat] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)  # (role label, name)
    note: str = ""


def _unit_card(user, assignment) -> Card:
    unit = assignment.unit
    summary = org_selectors.summarize(user, unit)
    unit_url = reverse("orgs:unit", args=[unit.pk])
    units = reverse("orgs:units")
    stats = [
        Stat(label, n, "个", f"{units}?within={unit.pk}&{query}")
        for query, label, n in summary.counts
    ]
    if unit.is_police:
        stats.append(
            Stat("指导总队", summary.guided_teams, "个", f"{units}?within={unit.pk}&guided=1")
        )
    if access.can(user, "members.view", unit):
        from hongfeng.members.models import Member

        serving = Member.objects.visible_to(user).serving().filter(unit__path__startswith=unit.path)
        stats.append(
            Stat(
                "在册队员",
                serving.count(),
                "人",
                f"{reverse('members:list')}?unit={unit.pk}&status=serving",
            )
        )
    if access.has_capability(user, "roles.view"):
        stats.append(
            Stat(
                "任职人员",
                summary.role_holders,
                "人",
                f"{reverse('accounts:roles')}?unit={unit.pk}",
            )
        )
    return Card(
        title=unit.name,
        subtitle=f"{assignment.get_role_display()} · {unit.kind_display}",
        url=unit_url,
        stats=stats,
    )


def _volunteer_card(user, assignment) -> Card:
    """A 队员 sees their own units and who leads them."""
    unit = assignment.unit
    chain = [*org_selectors.visible_ancestors(user, unit), unit]
    leaders = (
        RoleAssignment.objects.active()
        .filter(unit__in=chain, role__in=[Role.CAPTAIN, Role.SQUAD_LEADER, Role.GROUP_LEADER])
        .select_related("user")
        .order_by("unit__depth")
    )
    team = chain[0] if chain else unit
    station = team.guiding_station if team.kind == UnitKind.TEAM else None
    return Card(
        title=" / ".join(u.name for u in chain),
        subtitle="队员",
        url=reverse("orgs:unit", args=[unit.pk]),
        people=[(a.get_role_display(), a.user.name) for a in leaders],
        note=f"指导派出所：{station.name}" if station else "",
    )


def _global_card(user, roles: set[str]) -> Card:
    card = Card(title="全平台", subtitle="、".join(Role(r).label for r in sorted(roles)))
    counts = org_selectors.platform_counts()
    units = reverse("orgs:units")
    for query, label, n in counts:
        card.stats.append(Stat(label, n, "个", f"{units}?{query}"))
    if Role.SYSTEM_ADMIN in roles or Role.SECURITY_ADMIN in roles:
        accounts = reverse("accounts:accounts")
        card.stats.append(Stat("账号", access.visible_users(user).count(), "个", accounts))
    if Role.SECURITY_ADMIN in roles:
        locked = LoginThrottle.objects.filter(locked_until__gt=timezone.now()).count()
        card.stats.append(
            Stat("锁定中的手机号", locked, "个", f"{reverse('accounts:accounts')}?locked=1")
        )
    if Role.AUDITOR in roles:
        from hongfeng.audit.models import AuditEvent

        since = timezone.localdate() - timedelta(days=1)
        recent = AuditEvent.objects.filter(occurred_at__date__gte=since).count()
        card.stats.append(
            Stat(
                "近两日审计事件",
                recent,
                "条",
                f"{reverse('audit:events')}?since={since.isoformat()}",
            )
        )
    return card


def cards_for(user) -> list[Card]:
    cards: list[Card] = []
    global_roles = {a.role for a in access.assignments(user) if a.unit_id is None}
    if global_roles:
        cards.append(_global_card(user, global_roles))
    for assignment in access.assignments(user):
        if assignment.unit_id is None:
            continue
        if assignment.role == Role.VOLUNTEER:
            cards.append(_volunteer_card(user, assignment))
        else:
            cards.append(_unit_card(user, assignment))
    return cards
