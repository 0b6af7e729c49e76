"""Demo activities for the 红枫义警总队 (and one in 柯桥 for scoping): every kind of 6.x, in
every state — evaluated ones from the last weeks with their check-ins and hours, one in
progress now with live and flagged check-ins, upcoming ones open for sign-up (one high-risk,
one with a waitlist), a draft and a cancelled one — and last month's 公示.

Current and upcoming activities go through the real services (publish → broadcast → sign-up →
check-in). Finished ones lie in the past, where the services' clocks cannot go, so they are
written as history (demo_history.py)."""

import random
import uuid
from datetime import date, datetime, timedelta
from functools import partial

from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.demo_history import FENGQIAO, at_hour, write_history
from hongfeng.activities.models import ActivityKind, CheckInKind, Difficulty
from hongfeng.members import services as member_services
from hongfeng.members.models import EquipmentKind, InsurancePolicy, Member, MemberStatus, Skill

# The patrol running while the demo is shown: named after the local time it runs at.
CURRENT_PATROL = ("枫桥镇白天街面巡逻", "枫桥镇夜间街面巡逻")


def current_patrol_title(starts: datetime) -> str:
    """A patrol starting between 06:00 and 16:59 (local) is a day patrol; any other a night one —
    a demo started at 23:00 used to show a 白天 patrol running until 04:00."""
    return CURRENT_PATROL[0] if 6 <= timezone.localtime(starts).hour < 17 else CURRENT_PATROL[1]


def _prepare_members(cast, today: date) -> list[Member]:
    """Pre-job training for most serving members (a few probationers still lack it, so the
    eligibility reasons show), a valid policy and protective gear for the cast's volunteers."""
    captain = cast.users["captain"]
    team = cast.units["hongfeng"]
    members = list(
        Member.objects.filter(unit__path__startswith=team.path)
        .select_related("unit", "user")
        .order_by("pk")
    )
    for i, member in enumerate(members):
        if member.status == MemberStatus.EXITED or (
            member.status == MemberStatus.PROBATION and i % 3 == 0
        ):
            continue
        member_services.record_pre_job_training(
            actor=captain,
            member=member,
            completed_on=min(member.joined_on + timedelta(days=20), today),
        )
    for key in ("volunteer", "group_leader", "squad_leader", "captain"):
        member = Member.objects.get(user=cast.users[key])
        if not InsurancePolicy.objects.filter(
            member=member, ends_on__gte=today + timedelta(days=60)
        ).exists():
            member_services.add_insurance(
                actor=captain,
                member=member,
                insurer="中国人寿诸暨支公司",
                policy_number=f"YW2026D{member.pk:05d}",
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=335),
            )
    for key in ("captain", "squad_leader"):
        member = Member.objects.get(user=cast.users[key])
        member_services.issue_equipment(
            actor=captain,
            member=member,
            kind=EquipmentKind.PROTECTIVE_GEAR,
            issued_on=today - timedelta(days=90),
        )
    return members


def build(cast) -> None:
    """Demo activities; `cast` is hongfeng.core.demo's Cast (after the member demo)."""
    rng = random.Random(4_5)  # noqa: S311 — demo data, deterministic on purpose
    now = timezone.now()
    today = timezone.localdate()
    _prepare_members(cast, today)
    _risk_defaults(cast)
    captain = cast.users["captain"]
    team = cast.units["hongfeng"]
    serving = list(
        Member.objects.filter(unit__path__startswith=team.path, status__in=["active", "core"])
        .select_related("user", "unit")
        .order_by("pk")
    )
    write_history(rng, now, captain, team, serving)
    _current(rng, now, cast)
    _upcoming(now, cast)
    _attendance(cast, today)
    services.sweep_activities()  # the running patrol shows as in progress at once


def _risk_defaults(cast) -> None:
    """5.4.7: the county association has written its own default for patrols (the other kinds
    use the built-in texts), so every demo activity carries an assessment."""
    services.save_risk_default(
        actor=cast.users["county_admin"],
        association=cast.units["zhuji"],
        kind=ActivityKind.PATROL,
        text=(
            "主要风险：道路交通、夜间视线差、遇到醉酒或可疑人员。"
            "措施：两人一组，穿反光背心，夜间配备肩灯和对讲机；沿人行道巡逻，不横穿车道；"
            "发现情况先报告枫桥派出所，不追捕、不与对方争执。"
        ),
    )


def _data(kind, title, place, starts, hours, capacity, **extra) -> services.ActivityData:
    return services.ActivityData(
        kind=kind,
        title=title,
        place=place,
        latitude=extra.pop("latitude", FENGQIAO[0]),
        longitude=extra.pop("longitude", FENGQIAO[1]),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        capacity=capacity,
        description=extra.pop("description", f"{title}。请准时到达，佩戴义警标识。"),
        **extra,
    )


def _current(rng, now, cast) -> None:
    """In progress now (started on the last full hour before this one, five hours long, named
    after its local time): 张三 and others checked in by GPS, one flagged outside the fence."""
    captain = cast.users["captain"]
    team = cast.units["hongfeng"]
    local = timezone.localtime(now)
    starts = local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    activity = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=_data(
            ActivityKind.PATROL,
            current_patrol_title(starts),
            "枫桥镇中心街",
            starts,
            5,
            12,
            radius_m=400,
        ),
    )
    activity = services.publish_activity(actor=captain, activity=activity)
    eligible = list(services.eligible_members(activity).select_related("user").order_by("pk")[:9])
    volunteer = Member.objects.get(user=cast.users["volunteer"])
    if volunteer not in eligible:
        eligible.insert(0, volunteer)
    for member in eligible[:9]:
        services.sign_up(user=member.user, activity=activity)
    for i, member in enumerate(eligible[:6]):
        far = i == 5  # one who insists from outside the fence: flagged for review
        services.check_in(
            user=member.user,
            activity=activity,
            data=services.CheckInData(
                kind=CheckInKind.IN,
                client_id=uuid.UUID(int=rng.getrandbits(128)),
                latitude=FENGQIAO[0] + (0.009 if far else rng.uniform(-0.001, 0.001)),
                longitude=FENGQIAO[1] + rng.uniform(-0.001, 0.001),
                accuracy_m=15.0,
                allow_review=far,
            ),
        )


def _upcoming(now, cast) -> None:
    """Upcoming activities, in this order (their ids follow it): a high-risk response, a small
    one with a waitlist, three open ones, a squad's draft, a pre-job training, a cancelled one
    and another county's patrol."""
    day = partial(at_hour, now)  # day(n, h): n days from now at h o'clock, local time
    _high_risk_response(cast, day)
    _small_with_waitlist(cast, day)
    _open_for_signup(cast, day)
    _squad_draft(cast, day)
    _pre_job_training(cast, day)
    _cancelled(cast, day)
    _other_county(cast, day)


def _high_risk_response(cast, day) -> None:
    """The station's flood response: high-risk, core members with a rescue skill and a radio."""
    rescue = Skill.objects.filter(code__in=["water_rescue", "first_aid"]).values_list(
        "code", flat=True
    )
    officer = cast.users["station_officer"]
    activity = services.create_activity(
        actor=officer,
        unit=cast.units["fengqiao"],
        audience_unit=cast.units["hongfeng"],
        data=_data(
            ActivityKind.COORDINATED_RESPONSE,
            "枫桥江汛期应急协同处置",
            "枫桥江大桥",
            day(2, 8),
            6,
            8,
            difficulty=Difficulty.HIGH_RISK,
            core_only=True,
            required_skills=list(rescue)[:1],
            required_equipment=[EquipmentKind.RADIO],
            risk_assessment="汛期水位高：须持救援技能、穿救生衣、两人一组，不得单独下水；由派出所民警现场指挥。",
        ),
    )
    services.publish_activity(actor=officer, activity=activity)


def _small_with_waitlist(cast, day) -> None:
    """Three places, five sign-ups: 3 confirmed, 2 on the waitlist."""
    captain, team = cast.users["captain"], cast.units["hongfeng"]
    small = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=_data(
            ActivityKind.PUBLICITY,
            "防范电信诈骗集市宣传",
            "枫桥农贸市场",
            day(5, 8),
            4,
            3,
            waitlist_limit=5,
        ),
    )
    small = services.publish_activity(actor=captain, activity=small)
    eligible = list(services.eligible_members(small).select_related("user").order_by("-pk")[:5])
    for member in eligible:
        services.sign_up(user=member.user, activity=small)


def _open_for_signup(cast, day) -> None:
    captain, team = cast.users["captain"], cast.units["hongfeng"]
    for kind, title, place, n, hours, capacity in (
        (ActivityKind.SECURITY_DUTY, "枫桥镇元旦文艺晚会安保勤务", "枫桥镇文化中心", 9, 5, 20),
        (ActivityKind.CARE, "留守儿童课后陪伴", "枫桥镇中心小学", 4, 2, 6),
        (ActivityKind.OTHER, "义警驿站值守", "枫桥红枫义警驿站", 3, 4, 4),
    ):
        activity = services.create_activity(
            actor=captain,
            unit=team,
            audience_unit=team,
            data=_data(kind, title, place, day(n, 9), hours, capacity),
        )
        services.publish_activity(actor=captain, activity=activity)


def _squad_draft(cast, day) -> None:
    squad = cast.units["hongfeng_squad1"]
    services.create_activity(
        actor=cast.users["squad_leader"],
        unit=squad,
        audience_unit=squad,
        data=_data(
            ActivityKind.RISK_INSPECTION,
            "第一分队辖区监控探头排查（草稿）",
            "枫桥镇工业园区",
            day(12, 9),
            3,
            6,
        ),
    )


def _pre_job_training(cast, day) -> None:
    """5.3.1: the probationers who still lack pre-job training are told and may join this one."""
    captain, team = cast.users["captain"], cast.units["hongfeng"]
    training = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=_data(
            ActivityKind.TRAINING,
            "岗前培训第三期：义警职责与安全防护",
            "枫桥镇社区警校",
            day(7, 8),
            4,
            30,
            pre_job_training=True,
            description="面向新队员的岗前培训（半天）：义警职责与纪律、法律常识、安全防护与急救。"
            "完成岗前培训后即可报名参加各类任务。",
        ),
    )
    services.publish_activity(actor=captain, activity=training)


def _cancelled(cast, day) -> None:
    captain, team = cast.users["captain"], cast.units["hongfeng"]
    cancelled = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=_data(ActivityKind.PUBLICITY, "校园防溺水宣传", "枫桥镇中学", day(6, 14), 2, 10),
    )
    cancelled = services.publish_activity(actor=captain, activity=cancelled)
    services.cancel_activity(
        actor=captain, activity=cancelled, reason="学校临时调整课程，活动改期另行通知"
    )


def _other_county(cast, day) -> None:
    """柯桥's own patrol, for scoping: nobody in 诸暨 sees it."""
    captain, team = cast.users["sibling_captain"], cast.units["keqiao_team"]
    activity = services.create_activity(
        actor=captain,
        unit=team,
        audience_unit=team,
        data=_data(
            ActivityKind.PATROL,
            "柯岩景区周末巡逻",
            "柯岩风景区",
            day(3, 9),
            4,
            10,
            latitude=30.0687,
            longitude=120.4931,
        ),
    )
    services.publish_activity(actor=captain, activity=activity)


def _attendance(cast, today: date) -> None:
    """Last month's 公示 for the 红枫义警总队, as the captain publishes it."""
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    services.publish_attendance_notice(
        actor=cast.users["captain"], team=cast.units["hongfeng"], month=last_month
    )


__all__ = ["CURRENT_PATROL", "FENGQIAO", "build", "current_patrol_title"]
