"""The seed's people (the per-team seed step "members.people"): each team's leaders — the
captain on the team, one per squad and group — and members, with their accounts, member files,
status history, role, skills, insurance and equipment. Leaves `seeding.people` (SeedPerson, in
order) and `seeding.captain` (the captain's user id) for the steps after it."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from random import Random

from hongfeng.accounts.models import Role
from hongfeng.accounts.seed import role_table, write_users
from hongfeng.core import crypto
from hongfeng.core.seed import PLACE, SeedUnit, Weights, id_number_for, person_name, seeded_pinyin
from hongfeng.members.catalogue import SKILLS
from hongfeng.members.models import (
    Category,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
    MemberStatus,
    PoliticalStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.services.identity import ID_INDEX, id_number_index
from hongfeng.orgs.models import UnitKind

# Statuses of the rank and file (leaders are core members); every status of 5.2.7 appears.
_STATUSES = Weights(
    [
        (MemberStatus.ACTIVE, 70),
        (MemberStatus.CORE, 8),
        (MemberStatus.PROBATION, 8),
        (MemberStatus.INACTIVE, 8),
        (MemberStatus.DEMOTED, 2),
        (MemberStatus.SUSPENDED, 2),
        (MemberStatus.EXITED, 2),
    ]
)
# The last change of a member who left "active": days before today it happened, and why.
_LATER_CHANGES = {
    MemberStatus.INACTIVE: ((10, 60), "连续30天无签到记录（5.2.7）"),
    MemberStatus.DEMOTED: ((10, 60), "长期未参加活动，经总队研究降级"),
    MemberStatus.SUSPENDED: ((5, 60), "因工作调动暂停服务"),
    MemberStatus.EXITED: ((5, 60), "本人申请退出"),
}
_CATEGORIES = Weights(
    [
        (Category.ENTERPRISE, 30),
        (Category.GIG_WORKER, 15),
        (Category.RETIRED_CADRE, 15),
        (Category.CIVIL_SERVANT, 10),
        (Category.STUDENT, 10),
        (Category.OTHER, 20),
    ]
)
_POLITICAL = Weights(
    [
        (PoliticalStatus.MASSES, 60),
        (PoliticalStatus.PARTY_MEMBER, 25),
        (PoliticalStatus.LEAGUE_MEMBER, 10),
        (PoliticalStatus.PROBATIONARY, 2),
        (PoliticalStatus.DEMOCRATIC_PARTY, 3),
    ]
)
_INSURERS = ["中国人寿", "中国平安", "中国人保", "太平洋保险"]
# Leaders per team, in this order: the captain on the team, a leader on every squad and group.
_LEADER_ROLES = {
    UnitKind.TEAM: Role.CAPTAIN,
    UnitKind.SQUAD: Role.SQUAD_LEADER,
    UnitKind.GROUP: Role.GROUP_LEADER,
}
_MEMBER_COLUMNS = (
    "user_id", "unit_id", "name", "name_pinyin", "name_initials", "id_number_encrypted",
    "id_number_index", "id_last4", "birth_date", "gender", "address", "political_status",
    "category", "status", "status_changed_at", "joined_on", "pre_job_training_on", "created_at",
)  # fmt: skip
_STATUS_COLUMNS = (
    "member_id", "from_status", "to_status", "reason", "changed_by_id", "changed_at",
)  # fmt: skip


@dataclass(slots=True)
class SeedPerson:
    """One seeded member while their team is generated."""

    n: int
    name: str
    id_number: str
    unit: SeedUnit
    status: str
    role: str
    joined: date
    trained: date
    history: list  # [(from, to, at, reason)]
    policies: list  # [(starts_on, ends_on)]
    skills: list
    gear: bool  # holds protective gear (needed for high-risk tasks, 5.4.7)
    since: date  # first day they could join an activity (trained and insured)
    until: date  # last such day (before a suspension, exit or inactivity)
    user_id: int = 0
    member_id: int = 0


def load_skills(seeding) -> None:
    """The skill catalogue's ids (a flushed test database has lost the migration's rows)."""
    for code, name in SKILLS:
        Skill.objects.get_or_create(code=code, defaults={"name": name})
    seeding.skill_ids = list(
        Skill.objects.filter(code__in=[c for c, _ in SKILLS])
        .order_by("code")
        .values_list("pk", flat=True)
    )


def _at(seeding, rng: Random, day: date) -> datetime:
    """An office-hours moment on `day`, never later than the seed's `now`."""
    hour, minute = rng.randint(8, 17), rng.choice([0, 15, 30, 45])
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=seeding.zone)
    return min(moment, seeding.now)


def _plan_person(seeding, unit: SeedUnit, role: str) -> SeedPerson:
    """Who one member is: identity, status and its history, training, insurance, skills,
    equipment, and the days on which they could serve (all from the one rng)."""
    rng, today = seeding.rng, seeding.today
    n = seeding.next_person()
    name = person_name(rng)
    number = id_number_for(seeding.scale, seeding.seed, n, rng)
    status = MemberStatus.CORE if role != Role.VOLUNTEER else _STATUSES.pick(rng)
    if status == MemberStatus.PROBATION:
        joined = today - timedelta(days=rng.randint(35, 85))
    elif role != Role.VOLUNTEER:
        joined = today - timedelta(days=rng.randint(800, 1900))
    else:
        joined = today - timedelta(days=rng.randint(400, 1900))
    trained = joined + timedelta(days=rng.randint(3, 30))
    at = partial(_at, seeding, rng)
    history = [("", MemberStatus.PROBATION, at(joined), "登记入队")]
    until = today
    if status != MemberStatus.PROBATION:
        history.append(
            (MemberStatus.PROBATION, MemberStatus.ACTIVE,
             at(joined + timedelta(days=rng.randint(90, 120))), "见习期满，转为正式队员")
        )  # fmt: skip
    if status == MemberStatus.CORE:
        day = joined + timedelta(days=rng.randint(200, 390))
        history.append((MemberStatus.ACTIVE, status, at(day), "表现突出，评为核心队员"))
    elif status in _LATER_CHANGES:
        (lo, hi), reason = _LATER_CHANGES[status]
        day = today - timedelta(days=rng.randint(lo, hi))
        history.append((MemberStatus.ACTIVE, status, at(day), reason))
        # No service in the 30 days before going inactive or demoted; none after leaving.
        until = day - timedelta(days=30 if status in ("inactive", "demoted") else 1)
    if status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
        ended = history[-1][2].date()
        policies = [(max(ended - timedelta(days=365), joined), ended)]
    else:
        # Insured on the day they joined and without a gap since: a policy running today
        # (at least 35 more days, so an upcoming activity is covered) and the year before.
        start = max(today - timedelta(days=rng.randint(0, 330)), joined)
        policies = [(start, start + timedelta(days=364))]
        if joined < start:
            policies.insert(
                0, (max(start - timedelta(days=365), joined), start - timedelta(days=1))
            )
    skills = rng.sample(seeding.skill_ids, rng.choice([0, 0, 1, 1, 1, 2, 2, 3]))
    gear = role != Role.VOLUNTEER or status == MemberStatus.CORE or rng.random() < 0.4
    return SeedPerson(
        n=n, name=name, id_number=number, unit=unit, status=status, role=role,
        joined=joined, trained=trained, history=history, policies=policies, skills=skills,
        gear=gear, since=max(trained, policies[0][0]), until=until,
    )  # fmt: skip


def _role_row(seeding, p: SeedPerson, captain: int) -> tuple:
    """The member's role in the team (as register_member grants it); a suspension or exit
    ended it (as change_status does), so the row is kept as revoked history."""
    granted = p.history[0][2] if p.role == Role.VOLUNTEER else p.history[-1][2]
    granted_by = seeding.actor_id if p.role == Role.CAPTAIN else captain
    if p.status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
        _from, _to, at, reason = p.history[-1]
        return (p.user_id, p.role, p.unit.id, granted_by, granted, captain, at, reason)
    return (p.user_id, p.role, p.unit.id, granted_by, granted, None, None, "")


def seed_people(seeding) -> None:
    """Leaders and members of one team with everything in their files. Leaders come first:
    the captain on the team, one per squad and group."""
    rng, team, groups = seeding.rng, seeding.team, seeding.groups
    leaders = [team, *seeding.squads, *groups][: seeding.team_size]
    people = [_plan_person(seeding, u, _LEADER_ROLES[u.kind]) for u in leaders]
    people += [
        _plan_person(seeding, rng.choice(groups), Role.VOLUNTEER)
        for _ in range(seeding.team_size - len(leaders))
    ]
    user_ids = write_users(seeding, [(p.n, p.name, p.history[0][2]) for p in people])
    for p, uid in zip(people, user_ids, strict=True):
        p.user_id = uid
    captain = people[0].user_id
    member_rows = []
    for p in people:
        number = p.id_number
        pinyin, initials = seeded_pinyin(p.name)
        member_rows.append(
            (
                p.user_id, p.unit.id, p.name, pinyin, initials,
                crypto.encrypt(number, field=ID_INDEX), id_number_index(number), number[-4:],
                date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                "male" if int(number[16]) % 2 else "female",
                f"{team.name}辖区{rng.choice(PLACE)}{rng.randint(1, 300)}号",
                _POLITICAL.pick(rng), _CATEGORIES.pick(rng),
                p.status, p.history[-1][2], p.joined, p.trained, p.history[0][2],
            )
        )  # fmt: skip
    w = seeding.writer
    member_ids = w.insert(seeding.table(Member, _MEMBER_COLUMNS), member_rows, ids=True)
    for p, mid in zip(people, member_ids, strict=True):
        p.member_id = mid
    w.insert(
        seeding.table(StatusChange, _STATUS_COLUMNS),
        [
            (p.member_id, frm, to, reason, captain, changed)
            for p in people
            for frm, to, changed, reason in p.history
        ],
    )
    w.insert(role_table(seeding), [_role_row(seeding, p, captain) for p in people])
    w.insert(
        seeding.table(Member.skills.through, ("member_id", "skill_id")),
        [(p.member_id, s) for p in people for s in p.skills],
    )
    w.insert(
        seeding.table(
            InsurancePolicy, ("member_id", "insurer", "policy_number", "starts_on", "ends_on")
        ),
        [
            (p.member_id, _INSURERS[p.n % len(_INSURERS)],
             f"YW{seeding.scale.code}{seeding.seed:02d}{p.n:06d}-{k + 1}", start, end)
            for p in people
            for k, (start, end) in enumerate(p.policies)
        ],
    )  # fmt: skip
    gear_rows = []
    for p in people:
        returned = p.until + timedelta(days=1) if p.status == MemberStatus.EXITED else None
        gear_rows.append((p.member_id, EquipmentKind.UNIFORM, p.trained, returned))
        if p.gear:
            gear_rows.append((p.member_id, EquipmentKind.PROTECTIVE_GEAR, p.trained, returned))
    w.insert(
        seeding.table(EquipmentIssue, ("member_id", "kind", "issued_on", "returned_on")), gear_rows
    )
    seeding.people, seeding.captain = people, captain
