"""Who may join an activity: every unmet condition as a reason the member reads (5.3.1 pre-job
training, 5.4.3 insurance, 5.4.7 skills and protective gear for high-risk tasks, the audience
the organiser chose), its SQL twin for the broadcast (4.5 一呼百应), and the same reasons for a
whole page of activities in a fixed number of queries (the volunteer's 可报名 list).

The messages are shown to volunteers: plain Chinese, no clause numbers (those stay here)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.utils import timezone

from hongfeng.activities.models import Activity, own_member
from hongfeng.core import hotpath
from hongfeng.members.models import (
    SERVING,
    Category,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
    MemberStatus,
    Skill,
)

__all__ = [
    "Reason",
    "eligibility",
    "eligibility_for_page",
    "eligibility_of",
    "eligible_members",
    "load_eligibility_facts",
]


# The caller's member file is `own_member` (activities.models); checkins.py and signups.py
# still import it under this older name until the hot-path rewrite renames their calls.
member_of = own_member


@dataclass(frozen=True)
class Reason:
    """One unmet condition, as the member reads it."""

    code: str
    message: str


def _days(activity: Activity) -> list[date]:
    first = timezone.localtime(activity.starts_at).date()
    last = timezone.localtime(activity.ends_at).date()
    return [first] if first == last else [first, last]


def eligibility(member: Member | None, activity: Activity) -> list[Reason]:
    """Every condition the member does not meet for this activity (empty = may join). The SQL
    twin is `eligible_members`; a test checks they agree for every demo member."""
    if member is None:
        return [Reason("no_member_file", "您还没有队员档案，不能报名活动。")]
    reasons = []
    if not member.unit.path.startswith(activity.audience_unit.path):
        reasons.append(
            Reason("not_in_audience", f"该活动面向「{activity.audience_unit.name}」的队员。")
        )
    if member.status not in SERVING:
        reasons.append(
            Reason(
                "not_serving", f"您的队员状态为「{member.get_status_display()}」，暂不能参加活动。"
            )
        )
    elif activity.core_only and member.status != MemberStatus.CORE:
        reasons.append(Reason("core_only", "该活动仅限核心队员参加。"))
    if not member.health_fit:
        reasons.append(Reason("health_unfit", "您的档案登记为身体状况暂不适合参加服务。"))
    wanted = {s.code: s.name for s in activity.audience_skills.all()}
    # the member's skills matter only for a skill audience or a high-risk task
    held = {s.code for s in member.skills.all()} if wanted or activity.is_high_risk else set()
    if wanted and not held & set(wanted):
        reasons.append(
            Reason(
                "skill_not_in_audience",
                f"该活动面向具备以下技能之一的队员：{'、'.join(wanted.values())}。",
            )
        )
    if activity.audience_categories and member.category not in activity.audience_categories:
        labels = "、".join(Category(c).label for c in activity.audience_categories)
        reasons.append(Reason("category_not_in_audience", f"该活动面向：{labels}。"))
    first_day = _days(activity)[0]
    # 5.3.1: the pre-job training itself is open to those who still lack it
    if activity.requires_pre_job_training and not member.pre_job_trained_by(first_day):
        reasons.append(
            Reason(
                "pre_job_training_incomplete",
                "您尚未完成岗前培训，完成后才能参加任务（可先报名「岗前培训」活动）。",
            )
        )
    if not all(member.insured_on(day) for day in _days(activity)):
        reasons.append(
            Reason("insurance_not_valid", "活动当天您没有有效的人身意外保险，请联系队长办理。")
        )
    if activity.is_high_risk:
        reasons.extend(_high_risk_reasons(member, activity, held, first_day))
    return reasons


def _high_risk_reasons(member: Member, activity: Activity, held: set, day: date) -> list[Reason]:
    """5.4.7: a high-risk task needs the skills it names and the protective gear issued."""
    reasons = []
    missing = [s.name for s in activity.required_skills.all() if s.code not in held]
    if missing:
        reasons.append(
            Reason("missing_required_skill", f"高风险任务须具备技能：{'、'.join(missing)}。")
        )
    lacking = [
        EquipmentKind(k).label for k in _needed_equipment(activity) if not _holds(member, k, day)
    ]
    if lacking:
        reasons.append(
            Reason("missing_protective_equipment", f"高风险任务须已领用：{'、'.join(lacking)}。")
        )
    return reasons


def eligibility_of(user, activity: Activity) -> list[Reason]:
    """`eligibility` for the user's own member file, read with everything the rules look at."""
    member = own_member(user)
    if member is not None:
        load_eligibility_facts(member, activity)
    return eligibility(member, activity)


def eligibility_for_page(member: Member | None, activities) -> dict[int, list[Reason]]:
    """`eligibility` for each of a page of activities (read with their audience unit): the
    member's insurance, skills and equipment once, the activities' skills in two prefetches —
    at most five queries whatever the number of activities, never one per card. What only a
    high-risk task needs (required skills, equipment) is read only when the page has one."""
    activities = list(activities)
    if member is not None and activities:
        high_risk = any(a.is_high_risk for a in activities)
        prefetch_related_objects(activities, "audience_skills")
        facts = ["insurances"]
        if high_risk or any(a.audience_skills.all() for a in activities):
            facts.append("skills")
        if high_risk:
            facts.append("equipment")
            prefetch_related_objects(activities, "required_skills")
        prefetch_related_objects([member], *facts)
    return {a.pk: eligibility(member, a) for a in activities}


_SKILLS_OF = "t0.id IN (SELECT skill_id FROM {table} WHERE {column} = %s)"


def _skills_of(through, column: str, owner_id: int) -> list[Skill]:
    where = _SKILLS_OF.format(table=through._meta.db_table, column=column)
    return hotpath.fetch_all(Skill, where, [owner_id], order="t0.id")


def load_eligibility_facts(member: Member, activity: Activity) -> None:
    """Read, in a few fixed queries (the sign-up hot path: see core.hotpath), everything
    `eligibility` looks at beyond the two rows themselves: the member's insurance policies, the
    activity's audience skills and — for a high-risk task only — the required skills, the
    member's skills and equipment. `eligibility` then answers without a query."""
    insurances = hotpath.fetch_all(InsurancePolicy, "t0.member_id = %s", [member.pk])
    hotpath.set_prefetched(member, "insurances", insurances)
    through = Activity.audience_skills.through
    hotpath.set_prefetched(
        activity, "audience_skills", _skills_of(through, "activity_id", activity.pk)
    )
    wanted = activity.audience_skills.all()
    if activity.is_high_risk:
        through = Activity.required_skills.through
        hotpath.set_prefetched(
            activity, "required_skills", _skills_of(through, "activity_id", activity.pk)
        )
        equipment = hotpath.fetch_all(EquipmentIssue, "t0.member_id = %s", [member.pk])
        hotpath.set_prefetched(member, "equipment", equipment)
    if wanted or activity.is_high_risk:
        hotpath.set_prefetched(
            member, "skills", _skills_of(Member.skills.through, "member_id", member.pk)
        )


def _needed_equipment(activity: Activity) -> list[str]:
    """High-risk tasks always need protective gear (6.1.3), plus whatever the organiser listed."""
    kinds = list(activity.required_equipment)
    if activity.is_high_risk and EquipmentKind.PROTECTIVE_GEAR not in kinds:
        kinds.insert(0, EquipmentKind.PROTECTIVE_GEAR)
    return kinds


def _holds(member: Member, kind: str, day: date) -> bool:
    return any(
        e.kind == kind and e.issued_on <= day and (e.returned_on is None or e.returned_on > day)
        for e in member.equipment.all()
    )


def eligible_members(activity: Activity):
    """The members who may join, as one query (the broadcast's recipients)."""
    days = _days(activity)
    members = Member.objects.filter(
        unit__path__startswith=activity.audience_unit.path,
        status__in=[MemberStatus.CORE] if activity.core_only else list(SERVING),
        health_fit=True,
    )
    if activity.requires_pre_job_training:
        members = members.pre_job_trained_by(days[0])
    for day in days:
        members = members.filter(
            Exists(
                InsurancePolicy.objects.filter(
                    member=OuterRef("pk"), starts_on__lte=day, ends_on__gte=day
                )
            )
        )
    wanted = list(activity.audience_skills.values_list("pk", flat=True))
    if wanted:
        members = members.filter(
            Exists(
                Member.skills.through.objects.filter(member_id=OuterRef("pk"), skill_id__in=wanted)
            )
        )
    if activity.audience_categories:
        members = members.filter(category__in=activity.audience_categories)
    if activity.is_high_risk:
        members = _high_risk_members(activity, members, days[0])
    return members


def _high_risk_members(activity: Activity, members, day: date):
    for skill_id in activity.required_skills.values_list("pk", flat=True):
        members = members.filter(
            Exists(
                Member.skills.through.objects.filter(member_id=OuterRef("pk"), skill_id=skill_id)
            )
        )
    for kind in _needed_equipment(activity):
        held = EquipmentIssue.objects.filter(
            member=OuterRef("pk"), kind=kind, issued_on__lte=day
        ).filter(Q(returned_on__isnull=True) | Q(returned_on__gt=day))
        members = members.filter(Exists(held))
    return members
