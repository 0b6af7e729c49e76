"""Reads of member files through the access choke point: lists, search, one file."""

import re

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery

from hongfeng.accounts import access
from hongfeng.accounts.models import Role, RoleAssignment, normalize_mobile
from hongfeng.core import crypto
from hongfeng.core.errors import NotFound
from hongfeng.core.idnumber import normalize_id_number
from hongfeng.core.masking import mask_name
from hongfeng.members.models import Member, MemberStatus, Skill
from hongfeng.orgs.models import Unit, UnitKind

_LEADERS = [Role.CAPTAIN, Role.SQUAD_LEADER, Role.GROUP_LEADER]
_ASCII_WORD = re.compile(r"^[a-z]+$")
POSITION_LABELS = {
    Role.CAPTAIN: "总队长",
    Role.SQUAD_LEADER: "分队长",
    Role.GROUP_LEADER: "小组长",
}


def with_position(members):
    """Annotate the member's position in the team (总队长/分队长/小组长), derived from their
    role assignments — the roles are the one source of truth (5.2.4)."""
    leader = RoleAssignment.objects.active().filter(user=OuterRef("user"), role__in=_LEADERS)
    return members.annotate(leader_role=Subquery(leader.order_by("role").values("role")[:1]))


def position_label(member) -> str:
    return POSITION_LABELS.get(getattr(member, "leader_role", None) or "", "队员")


def search_filter(q: str, *, exact: bool = False) -> Q:
    """One box for every way people look a member up:
    4 digits → last four of the ID number or the mobile;
    11 digits / 18 characters → the exact mobile or ID number (the ID through the blind index,
    never a LIKE) — only with `exact`: for people who may not reveal, an exact match would
    confirm guesses and so undo the masking;
    latin letters → pinyin initials (zs) or full pinyin (zhangsan); anything else → the name."""
    text = q.strip()
    digits = normalize_mobile(text)
    if digits.isdigit() and len(digits) == 4:
        return Q(id_last4=digits) | Q(user__mobile__endswith=digits)
    if digits.isdigit() and len(digits) == 11:
        return Q(user__mobile=digits) if exact else Q(pk__in=[])
    id_number = normalize_id_number(text)
    if len(id_number) == 18 and id_number[:17].isdigit():
        if not exact:
            return Q(pk__in=[])
        return Q(id_number_index=crypto.blind_index(id_number, purpose="members.id_number"))
    word = text.lower().replace(" ", "")
    if _ASCII_WORD.match(word):
        return Q(name_initials__startswith=word) | Q(name_pinyin__startswith=word)
    return Q(name__contains=text)


def within_unit_q(unit) -> Q:
    """Member files "within" a unit, as its lists and home-page counts mean it: the unit's
    subtree — for a police station or bureau, the teams it guides (属地管理 5.1.1), since no
    volunteer sits in the police tree itself."""
    if unit.is_police:
        return access.reach_q(access.Reach.GUIDED, unit, "unit__")
    return Q(unit__path__startswith=unit.path)


def members_for(
    user, *, q=None, unit=None, status=None, category=None, skill=None, capability="members.view"
):
    """Member files the user may see, filtered; with what a list row shows, in a fixed
    number of queries whatever the page size."""
    rows = Member.objects.visible_to(user, capability)
    if unit is not None:
        rows = rows.filter(within_unit_q(unit))
    if status in MemberStatus.values:
        rows = rows.filter(status=status)
    elif status == "serving":
        rows = rows.serving()
    if category:
        rows = rows.filter(category=category)
    if skill:
        rows = rows.filter(
            Exists(Member.skills.through.objects.filter(member=OuterRef("pk"), skill__code=skill))
        )
    if q and q.strip():
        # Exact-number matches only among files the user may reveal (or their own).
        exact = access.scope_q(user, "members.reveal", "unit") | Q(user=user)
        rows = rows.filter(search_filter(q) | (search_filter(q, exact=True) & exact))
    return (
        with_position(rows)
        .select_related("unit", "user")
        .prefetch_related(Prefetch("skills", queryset=Skill.objects.order_by("name")))
        .order_by("name", "id")
    )


def get_member_for_user(user, member_id, capability: str = "members.view") -> Member:
    member = (
        with_position(Member.objects.visible_to(user, capability))
        .select_related("unit", "unit__team", "user", "partner")
        .filter(pk=access.parse_id(member_id))
        .first()
    )
    if member is None:
        raise NotFound()
    return member


def names_shown_to(user):
    """How members' names read on the pages a user runs for them — the organiser console and
    its API (issue 15, 5.7): in full for the team's own leaders over that member (the captain,
    or a squad or group leader whose unit holds the member's unit), who know their people by
    name; masked (张*三) for everyone else, as everywhere by default (security.md). Returns
    `name(member)`; the member's unit must be loaded with it."""
    paths = [a.unit.path for a in access.assignments(user) if a.role in _LEADERS]

    def name(member: Member) -> str:
        if any(member.unit.path.startswith(path) for path in paths):
            return member.name
        return mask_name(member.name)

    return name


def has_member_file(user) -> bool:
    """Whether the user has a member file (一人一档): one query, then cached on the user by
    Django's one-to-one descriptor."""
    return hasattr(user, "member")


def own_member(user) -> Member | None:
    return with_position(Member.objects.filter(user=user)).select_related("unit", "user").first()


def manageable_units(user, *, teams_only: bool = False):
    """The teams, squads and groups whose files this user keeps (members.manage), in tree
    order: where 实名登记 (any of them) and 名册导入 (teams only) may go."""
    kinds = [UnitKind.TEAM] if teams_only else [UnitKind.TEAM, UnitKind.SQUAD, UnitKind.GROUP]
    return (
        Unit.objects.visible_to(user, "members.manage")
        .active()
        .filter(kind__in=kinds, special_tag="")
        .order_by("path")
    )
