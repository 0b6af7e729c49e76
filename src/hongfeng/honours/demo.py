"""Demo honours for the 诸暨市义警协会 and its 红枫义警总队: three titles (优秀义警 at 100
points, 服务之星 at 20 hours, 先进个人 by hand), the rule grants they produce, a manual grant, a
certificate, and a warning history that left one exit proposal waiting for the captain."""

from hongfeng.honours import services
from hongfeng.honours.models import ThresholdKind
from hongfeng.members.models import Member, MemberStatus


def build(cast) -> None:
    admin, captain = cast.users["county_admin"], cast.users["captain"]
    zhuji = cast.units["zhuji"]
    services.create_title(
        actor=admin,
        association=zhuji,
        name="优秀义警",
        threshold_kind=ThresholdKind.POINTS,
        threshold_value=100,
        description="累计积分达到 100 分",
    )
    services.create_title(
        actor=admin,
        association=zhuji,
        name="服务之星",
        threshold_kind=ThresholdKind.HOURS,
        threshold_value=20,
        description="累计服务时长达到 20 小时",
    )
    advanced = services.create_title(
        actor=admin,
        association=zhuji,
        name="先进个人",
        threshold_kind=ThresholdKind.MANUAL,
        description="年度表彰，由协会评定",
    )
    volunteer = Member.objects.select_related("unit").get(user=cast.users["volunteer"])
    grant = services.grant_honour(
        actor=captain, member=volunteer, title=advanced, reason="2026年枫桥镇防汛抢险表现突出"
    )
    services.issue_honour_certificate(actor=captain, grant=grant)
    # A member of the team with two warnings within 12 months: the exit proposal waits.
    others = (
        Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
        .filter(status=MemberStatus.ACTIVE)
        .exclude(user__in=list(cast.users.values()))
        .order_by("id")
    )
    target = others.last()
    if target is None:
        return
    services.issue_warning(
        actor=captain,
        member=target,
        reason="无故缺席已报名的夜间巡逻，未提前请假",
        evidence="巡逻签到记录缺失；小组长电话联系未接。",
        evidence_ref="红枫总队〔2026〕巡逻考勤第 11 号",
    )
    services.issue_warning(
        actor=captain,
        member=target,
        reason="执勤期间擅离岗位",
        evidence="现场两名队员证言；派出所民警当日记录。",
        evidence_ref="枫桥派出所情况说明（纸质存档）",
        penalty_points=10,
    )
