"""The home page's cards: for each thing the user is responsible for, the real counts, each
linking to the records behind it (ui.md)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts import selectors as account_selectors
from hongfeng.accounts.models import Role, RoleAssignment
from hongfeng.core.pagination import LARGE_COUNT, LARGE_COUNT_SECONDS
from hongfeng.orgs import selectors as org_selectors
from hongfeng.orgs.models import TEAM_KINDS, Unit, UnitKind

# Teams without a captain named one by one on a card; beyond that, a link to the full list.
PROBLEMS_LISTED = 5


@dataclass
class Stat:
    label: str
    value: int | str
    unit: str
    url: str


@dataclass
class Card:
    title: str
    subtitle: str
    url: str | None = None
    stats: list[Stat] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)  # (role label, name)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (when, what, url)
    note: str = ""
    # (what is wrong, what to do, url or "") — rules of the standard not met, shown in orange
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def _unit_card(user, assignment) -> Card:
    """The counts of one unit the user holds a role over. A card over at least LARGE_COUNT
    member files keeps its counts for LARGE_COUNT_SECONDS per app server process (the rule of
    core.pagination.count_of): at province scale counting the serving members and the distinct
    role holders took ≈ 0.4 s of database time per view (`python -m bench`). Smaller cards are
    always fresh — a captain sees the member they just added counted at once."""
    # The assignment ids in the key: a role granted or revoked changes what the user sees.
    roles = ",".join(str(a.pk) for a in access.assignments(user))
    key = f"dashboard:unit-card:{user.pk}:{assignment.pk}:{roles}"
    card = cache.get(key)
    if card is None:
        card, members = _fresh_unit_card(user, assignment)
        if members >= LARGE_COUNT:
            card.note = f"范围较大，统计数每 {LARGE_COUNT_SECONDS} 秒更新一次。"
            cache.set(key, card, LARGE_COUNT_SECONDS)
    return card


def _fresh_unit_card(user, assignment) -> tuple[Card, int]:
    """The unit card computed now, and the number of serving members it counted (0 when it
    shows none)."""
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
    members = 0
    if access.can(user, "members.view", unit):
        from hongfeng.members.models import Member
        from hongfeng.members.selectors import within_unit_q

        # the members list's own filter: a station counts the teams it guides (5.1.1)
        serving = Member.objects.visible_to(user).serving().filter(within_unit_q(unit))
        members = serving.count()
        stats.append(
            Stat(
                "在册队员",
                members,
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
    if unit.kind in TEAM_KINDS:
        stats.extend(_team_stars(unit))
    card = Card(
        title=unit.name,
        subtitle=f"{assignment.get_role_display()} · {unit.kind_display}",
        url=unit_url,
        stats=stats,
        problems=_teams_without_captain(user, unit),
    )
    return card, members


def _team_stars(unit) -> list[Stat]:
    """The team's latest published star rating (7.2.3), for everyone on the team's home."""
    from hongfeng.points.selectors import latest_published_rating

    rating = latest_published_rating(unit.team_id_or_self)
    if rating is None:
        return []
    url = reverse("public:rating", args=[rating.run_id])
    return [Stat(f"{rating.run.year} 年度星级", rating.star_text or "未上榜", "", url)]


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


def _service_card(user) -> Card | None:
    """For anyone with a member file — "what do I do next?" (ui.md): my next activities, unread
    messages, open activities I may join, my settled hours this month."""
    from hongfeng.activities import selectors as activity_selectors
    from hongfeng.activities.models import member_file_of
    from hongfeng.activities.services.attendance import month_bounds
    from hongfeng.notices.services import unread_count

    member = member_file_of(user)
    if member is None:
        return None
    now = timezone.now()
    mine = [
        p
        for p in activity_selectors.my_participations(user).filter(activity__ends_at__gt=now)
        if p.status in ("confirmed", "waitlisted")
    ]
    mine.sort(key=lambda p: p.activity.starts_at)
    start, end = month_bounds(timezone.localdate().replace(day=1))
    hours = activity_selectors.hours_between(member, start, end)
    activities = reverse("activities:list")
    card = Card(title="我的服务", subtitle="下一步做什么", url=f"{activities}?tab=mine")
    card.stats = [
        Stat(
            "本月服务时长", f"{hours:.2f}".rstrip("0").rstrip("."), "小时", f"{activities}?tab=mine"
        ),
        Stat("未读消息", unread_count(user), "条", f"{reverse('notices:inbox')}?unread=1"),
        # the same list the activity page's "只看我能报名的" shows (5.5)
        Stat(
            "可报名活动",
            len(activity_selectors.joinable(user)),
            "个",
            f"{activities}?tab=open&joinable=1",
        ),
    ]
    card.links = [
        (
            f"{timezone.localtime(p.activity.starts_at):%m月%d日 %H:%M}",
            f"{p.activity.title}（{p.get_status_display()}）",
            reverse("activities:detail", args=[p.activity_id]),
        )
        for p in mine[:3]
    ]
    if not mine:
        card.note = "还没有报名即将开始的活动。打开「可报名活动」看看有哪些任务需要您。"
    return card


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
        locked = account_selectors.locked_account_count()
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
    service = _service_card(user)
    if service is not None:
        cards.append(service)
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
