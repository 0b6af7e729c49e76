"""The home cards the accounts app draws (registered in accounts.registrations): the platform
card of the three powers, and one card per role assignment — a unit card with its counts and
its problems, or for a 队员 their own units and who leads them. Other apps add numbers to the
platform card (the subject: the set of platform-wide roles) and to the unit cards (the subject:
orgs' UnitSummary of the unit, whose `.unit` is the unit) through
core.dashboard.contributed_stats."""

from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.accounts import selectors as account_selectors
from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.core.dashboard import Card, Stat, contributed_stats, kept_card
from hongfeng.orgs import selectors as org_selectors
from hongfeng.orgs.models import Unit, UnitKind

# Teams without a captain named one by one on a card; beyond that, a link to the full list.
PROBLEMS_LISTED = 5


def platform_cards(user) -> list[Card]:
    """One card over the whole platform for the platform-wide roles (the three powers)."""
    roles = {a.role for a in access.assignments(user) if a.unit_id is None}
    if not roles:
        return []
    card = Card(title="全平台", subtitle="、".join(Role(r).label for r in sorted(roles)))
    units = reverse("orgs:units")
    for query, label, n in org_selectors.platform_counts():
        card.stats.append(Stat(label, n, "个", f"{units}?{query}"))
    card.stats.extend(contributed_stats("platform", user, roles))
    return [card]


def platform_account_stats(user, roles: set[str]) -> list[Stat]:
    """Accounts for the system and security admins; lockouts for the security admin."""
    stats = []
    if Role.SYSTEM_ADMIN in roles or Role.SECURITY_ADMIN in roles:
        accounts = reverse("accounts:accounts")
        stats.append(Stat("账号", access.visible_users(user).count(), "个", accounts))
    if Role.SECURITY_ADMIN in roles:
        locked = account_selectors.locked_account_count()
        stats.append(
            Stat("锁定中的手机号", locked, "个", f"{reverse('accounts:accounts')}?locked=1")
        )
    return stats


def assignment_cards(user) -> list[Card]:
    """A card per scoped role assignment, in the assignments' order."""
    cards = []
    for assignment in access.assignments(user):
        if assignment.unit_id is None:
            continue
        if assignment.role == Role.VOLUNTEER:
            cards.append(_volunteer_card(user, assignment))
        else:
            cards.append(_unit_card(user, assignment))
    return cards


def _unit_card(user, assignment) -> Card:
    """The counts of one unit the user holds a role over (kept a while at scale: kept_card)."""
    # The assignment ids in the key: a role granted or revoked changes what the user sees.
    roles = ",".join(str(a.pk) for a in access.assignments(user))
    key = f"dashboard:unit-card:{user.pk}:{assignment.pk}:{roles}"
    return kept_card(key, lambda: _fresh_unit_card(user, assignment))


def _fresh_unit_card(user, assignment) -> Card:
    unit = assignment.unit
    summary = org_selectors.summarize(user, unit)
    units = reverse("orgs:units")
    stats = [
        Stat(label, n, "个", f"{units}?within={unit.pk}&{query}")
        for query, label, n in summary.counts
    ]
    if unit.is_police:
        stats.append(
            Stat("指导总队", summary.guided_teams, "个", f"{units}?within={unit.pk}&guided=1")
        )
    # the unit's numbers other apps keep (members, points), and its role holders
    stats.extend(contributed_stats("unit", user, summary))
    return Card(
        title=unit.name,
        subtitle=f"{assignment.get_role_display()} · {unit.kind_display}",
        url=reverse("orgs:unit", args=[unit.pk]),
        stats=stats,
        problems=_teams_without_captain(user, unit),
    )


def role_holder_stats(user, summary) -> list[Stat]:
    """The unit's role holders (counted by orgs' summary), for those who may list them."""
    if not access.has_capability(user, "roles.view"):
        return []
    url = f"{reverse('accounts:roles')}?unit={summary.unit.pk}"
    return [Stat("任职人员", summary.role_holders, "人", url)]


def _teams_without_captain(user, unit) -> list[tuple[str, str, str]]:
    """5.2.4: every team has exactly one 总队长 (应). A team without one is a problem on the
    home of its association's admins, of the station that guides it and of its own leaders,
    with a link to where the captain is granted (or, for those who cannot grant, to its
    holders)."""
    if unit.is_association:
        teams = Unit.objects.visible_to(user).subtree_of(unit)
    elif unit.is_police:
        teams = org_selectors.guided_teams(user, unit)
    else:
        teams = Unit.objects.filter(pk=unit.team_id_or_self)
    missing = list(org_selectors.without_captain(teams).order_by("path")[: PROBLEMS_LISTED + 1])
    problems = [_no_captain(user, team) for team in missing[:PROBLEMS_LISTED]]
    if len(missing) > PROBLEMS_LISTED:
        total = org_selectors.without_captain(teams).count()
        guided = "&guided=1" if unit.is_police else ""
        url = f"{reverse('orgs:units')}?within={unit.pk}&kind=team&no_captain=1{guided}"
        problems.append((f"共 {total} 个总队还没有总队长。", "查看全部", url))
    return problems


def _no_captain(user, team) -> tuple[str, str, str]:
    text = f"「{team.name}」还没有总队长（5.2.4：每个总队应有且只有一名总队长）。"
    if access.can_grant(user, Role.CAPTAIN, team):
        return text, "任命总队长", f"{reverse('accounts:grant')}?unit={team.pk}"
    if access.can(user, "roles.view", team):
        return (
            f"{text}请协会管理员任命。",
            "查看任职人员",
            f"{reverse('accounts:roles')}?unit={team.pk}",
        )
    return f"{text}请联系所属协会管理员任命。", "", ""


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
