"""Recruitment (5.2.2): each team's versioned charter, the public application form, and the
review that turns an application into a member file (or rejects it with a reason). A person
who once exited can come back through a new application; their file is reused, never copied."""

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import THREE_POWERS, Role, RoleAssignment, User, validate_mobile
from hongfeng.accounts.services import check_password_rules
from hongfeng.audit.services import record_event
from hongfeng.core import crypto
from hongfeng.core.errors import Conflict, DomainError
from hongfeng.core.idnumber import parse_id_number
from hongfeng.core.masking import mask_name
from hongfeng.members.catalogue import PRIVACY_NOTICE_VERSION
from hongfeng.members.models import (
    SERVING,
    Application,
    ApplicationAttempt,
    ApplicationStatus,
    Charter,
    ConsentKind,
    Member,
    MemberStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.services.files import MemberData, bump_member, register_member
from hongfeng.members.services.identity import (
    ID_INDEX,
    check_age,
    clean_person_name,
    id_number_index,
)
from hongfeng.members.services.privacy import record_consent
from hongfeng.notices.services import notify
from hongfeng.orgs.models import Unit, UnitKind

__all__ = [
    "PRIVACY_NOTICE_VERSION",
    "approve_application",
    "current_charter",
    "find_application",
    "publish_charter",
    "recruiting_teams",
    "reject_application",
    "reviewable_applications",
    "submit_application",
]

# Anti-abuse limits for the anonymous form (per source address, per mobile number).
MAX_PER_IP_PER_HOUR = 5
MAX_PER_MOBILE_PER_DAY = 3
MAX_ATTEMPTS_PER_IP_PER_HOUR = 20
_CHARTER_LIMIT = 4000


def recruiting_teams(query: str = ""):
    """Active teams that publish a charter (public), with their current charter version."""
    teams = (
        Unit.objects.active()
        .filter(kind=UnitKind.TEAM, charters__isnull=False)
        .annotate(charter_version=Max("charters__version"))
    )
    if query:
        teams = teams.filter(Q(name__contains=query) | Q(parent__name__contains=query))
    return teams.select_related("parent").order_by("path")


def reviewable_applications(user):
    """Applications to the teams the user keeps (the access choke point for the queue)."""
    return Application.objects.filter(access.scope_q(user, "members.manage", "team"))


def current_charter(team: Unit) -> Charter | None:
    return Charter.objects.filter(team=team).order_by("-version").first()


def _charter_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("此项必填。", code="required", field=field)
    if len(value) > _CHARTER_LIMIT:
        raise DomainError(f"不能超过{_CHARTER_LIMIT}字。", code="too_long", field=field)
    return value


@transaction.atomic
def publish_charter(
    *,
    actor,
    team: Unit,
    joining_conditions: str,
    rights_and_duties: str,
    exit_rules: str,
    code_of_conduct: str,
) -> Charter:
    """Publish a new version of a team's charter and code of conduct (5.2.2)."""
    if team.kind != UnitKind.TEAM:
        raise DomainError("章程按总队制定。", code="invalid_unit")
    access.require(actor, "members.manage", team, "您无权修改该队伍的章程。")
    Unit.objects.select_for_update().get(pk=team.pk)  # one publisher at a time per team
    version = (Charter.objects.filter(team=team).aggregate(v=Max("version"))["v"] or 0) + 1
    charter = Charter.objects.create(
        team=team,
        version=version,
        joining_conditions=_charter_text(joining_conditions, "joining_conditions"),
        rights_and_duties=_charter_text(rights_and_duties, "rights_and_duties"),
        exit_rules=_charter_text(exit_rules, "exit_rules"),
        code_of_conduct=_charter_text(code_of_conduct, "code_of_conduct"),
        published_by=actor,
        published_at=timezone.now(),
    )
    record_event(
        action="charter.published",
        actor=actor,
        target=team,
        unit=team,
        summary={"version": version},
    )
    return charter


def _check_team(team: Unit | None, preferred: Unit | None) -> tuple[Unit, Unit | None]:
    if team is None or team.kind != UnitKind.TEAM or team.is_archived:
        raise DomainError("请选择一个在册的义警总队。", code="invalid_team", field="team")
    if preferred is not None and (
        preferred.is_archived
        or not preferred.is_descendant_of(team)
        or preferred.kind not in (UnitKind.SQUAD, UnitKind.GROUP)
    ):
        raise DomainError(
            "希望加入的分队或小组不属于该总队。", code="invalid_unit", field="preferred_unit"
        )
    return team, preferred


def _throttle(ip: str, mobile: str) -> None:
    now = timezone.now()
    if (
        ip
        and Application.objects.filter(ip=ip, submitted_at__gte=now - timedelta(hours=1)).count()
        >= MAX_PER_IP_PER_HOUR
    ):
        raise DomainError("提交过于频繁，请一小时后再试。", code="too_many_applications")
    if (
        Application.objects.filter(mobile=mobile, submitted_at__gte=now - timedelta(days=1)).count()
        >= MAX_PER_MOBILE_PER_DAY
    ):
        raise DomainError("该手机号今天提交的申请过多，请明天再试。", code="too_many_applications")


def _check_person(number: str, mobile: str, name: str) -> None:
    index = id_number_index(number)
    member = Member.objects.filter(id_number_index=index).first()
    if member is not None and member.status in SERVING | {MemberStatus.SUSPENDED}:
        raise Conflict(
            "您已是义警队员，无需重复申请。如需调整队伍，请联系总队长。",
            code="already_member",
            field="id_number",
        )
    if Application.objects.filter(id_number_index=index, status=ApplicationStatus.APPLIED).exists():
        raise Conflict(
            "您已有一份待审核的申请，请耐心等待审核结果。",
            code="application_pending",
            field="id_number",
        )
    if member is not None and (member.user.mobile != mobile or member.name != name):
        # An exited member comes back under the same name and number, or the office checks.
        raise Conflict(
            "该身份证号曾登记为队员，但姓名或手机号与原档案不一致，请联系总队长办理。",
            code="identity_mismatch",
            field="id_number",
        )
    other = Member.objects.filter(user__mobile=mobile).exclude(id_number_index=index).exists()
    account = User.objects.filter(mobile=mobile).first()
    three_powers = (
        account is not None
        and RoleAssignment.objects.active().filter(user=account, role__in=THREE_POWERS).exists()
    )
    if other or three_powers or (account is not None and account.name != name):
        # A registered number belongs to someone else: never attach a stranger to it.
        raise Conflict(
            "该手机号已被他人登记，请使用本人手机号。", code="mobile_taken", field="mobile"
        )


def submit_application(**kwargs) -> Application:
    """The public application form (see `_submit`). Every attempt — accepted or not — counts
    towards a per-address limit first, so the form cannot be used to probe ID numbers."""
    ip = kwargs.get("ip", "")
    if ip:
        recent = ApplicationAttempt.objects.filter(
            ip=ip, at__gte=timezone.now() - timedelta(hours=1)
        ).count()
        if recent >= MAX_ATTEMPTS_PER_IP_PER_HOUR:
            raise DomainError("提交过于频繁，请一小时后再试。", code="too_many_applications")
        ApplicationAttempt.objects.create(ip=ip[:45], at=timezone.now())
    return _submit(**kwargs)


@transaction.atomic
def _submit(
    *,
    team: Unit | None,
    preferred_unit: Unit | None,
    name: str,
    id_number: str,
    mobile: str,
    password: str,
    skills: list[str],
    motivation: str,
    charter_version: int | None,
    charter_accepted: bool,
    privacy_accepted: bool,
    ip: str = "",
) -> Application:
    """The public application form (5.2.2): real name, ID number, mobile, chosen team, skills,
    and consent to the team's charter and to the privacy notice. Everything is checked before
    anything is stored."""
    team, preferred_unit = _check_team(team, preferred_unit)
    charter = current_charter(team)
    if charter is None:
        raise DomainError("该队伍尚未发布章程，暂不接受申请。", code="no_charter", field="team")
    if charter_version != charter.version:
        raise DomainError(
            "队伍章程已更新，请重新阅读后再提交。", code="charter_changed", field="charter_accepted"
        )
    if not charter_accepted:
        raise DomainError(
            "请阅读并同意队伍章程与行为规范。", code="consent_required", field="charter_accepted"
        )
    if not privacy_accepted:
        raise DomainError(
            "请阅读并同意个人信息处理告知书。", code="consent_required", field="privacy_accepted"
        )
    name = clean_person_name(name)
    info = parse_id_number(id_number)
    check_age(info.birth_date)
    mobile = validate_mobile(mobile)
    check_password_rules(password, User(mobile=mobile, name=name))
    known = set(Skill.objects.filter(code__in=skills).values_list("code", flat=True))
    if set(skills) - known:
        raise DomainError("未知的技能。", code="unknown_skill", field="skills")
    motivation = " ".join((motivation or "").split())
    if len(motivation) > 500:
        raise DomainError("申请说明不能超过500字。", code="too_long", field="motivation")
    _throttle(ip, mobile)
    _check_person(info.number, mobile, name)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                code=f"HF{secrets.token_hex(4).upper()}",
                team=team,
                preferred_unit=preferred_unit,
                name=name,
                id_number_encrypted=crypto.encrypt(info.number, field=ID_INDEX),
                id_number_index=id_number_index(info.number),
                mobile=mobile,
                password_hash=make_password(password),
                skills=sorted(set(skills)),
                motivation=motivation,
                charter=charter,
                privacy_version=PRIVACY_NOTICE_VERSION,
                submitted_at=timezone.now(),
                ip=ip[:45],
            )
    except IntegrityError:  # a twin submission got there first
        raise Conflict(
            "您已有一份待审核的申请。", code="application_pending", field="id_number"
        ) from None
    record_event(
        action="application.submitted",
        actor=None,
        actor_label=mask_name(name),
        target=application,
        target_label=f"{application.code} {mask_name(name)}",
        unit=team,
    )
    return application


def find_application(code: str, mobile: str) -> Application | None:
    """The applicant's own lookup: both the application number and the full mobile number."""
    code = (code or "").strip().upper()
    try:
        mobile = validate_mobile(mobile)
    except DomainError:
        return None
    return Application.objects.filter(code=code, mobile=mobile).select_related("team").first()


def _open(application: Application) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.APPLIED:
        raise DomainError("该申请已经审核过了。", code="already_decided")
    return application


def _target_unit(application: Application, unit: Unit | None) -> Unit:
    team = Unit.objects.get(pk=application.team_id)
    unit = unit or application.preferred_unit or team
    if team.is_archived:
        raise DomainError("该队伍已归档，不能再接收队员。", code="unit_archived")
    if unit.is_archived or not (unit.pk == team.pk or unit.is_descendant_of(team)):
        raise DomainError(
            "请选择该总队下在册的总队、分队或小组。", code="invalid_unit", field="unit"
        )
    return unit


def _rejoin(actor, member: Member, unit: Unit, application: Application) -> Member:
    """An exited member comes back: the same file, a new probation, a new 队员 role."""
    now = timezone.now()
    StatusChange.objects.create(
        member=member,
        from_status=member.status,
        to_status=MemberStatus.PROBATION,
        reason=f"重新申请入队（申请 {application.code}）",
        changed_by=actor,
        changed_at=now,
    )
    member = bump_member(
        member,
        status=MemberStatus.PROBATION,
        status_changed_at=now,
        unit=unit,
        joined_on=timezone.localdate(),
    )
    RoleAssignment.objects.create(
        user=member.user, role=Role.VOLUNTEER, unit=unit, granted_by=actor
    )
    return member


@transaction.atomic
def approve_application(*, actor, application: Application, unit: Unit | None = None) -> Member:
    """Approve: the member file (or, for someone who once exited, the old file) and the account
    with the 队员 role in the chosen unit; the applicant signs in with the password they chose.
    Their consents are recorded with the versions they saw."""
    application = _open(application)
    unit = _target_unit(application, unit)
    access.require(actor, "members.manage", unit, "您无权审核该申请。")
    number = application.id_number
    member = (
        Member.objects.select_for_update().filter(id_number_index=id_number_index(number)).first()
    )
    if member is not None and member.status != MemberStatus.EXITED:
        raise Conflict("此人已是在册队员。", code="already_member")
    if member is not None and (
        member.user.mobile != application.mobile or member.name != application.name
    ):
        # Never hand someone's old file (and account) to an applicant who only knows the ID.
        raise Conflict(
            "申请人的姓名或手机号与原档案不一致，请线下核实身份后办理。", code="identity_mismatch"
        )
    new_account = not User.objects.filter(mobile=application.mobile).exists()
    if member is not None:
        member = _rejoin(actor, member, unit, application)
    else:
        member = register_member(
            actor=actor,
            unit=unit,
            name=application.name,
            id_number=number,
            mobile=application.mobile,
            data=MemberData(skills=list(application.skills)),
            reason=f"入队申请 {application.code} 审核通过",
        )
    if new_account:
        User.objects.filter(pk=member.user_id).update(password=application.password_hash)
    record_consent(
        user=member.user,
        kind=ConsentKind.CHARTER,
        text_version=f"{application.team_id}:v{application.charter.version}",
    )
    record_consent(
        user=member.user, kind=ConsentKind.PRIVACY, text_version=application.privacy_version
    )
    Application.objects.filter(pk=application.pk).update(
        status=ApplicationStatus.APPROVED,
        decided_by=actor,
        decided_at=timezone.now(),
        member=member,
        password_hash="",
    )
    record_event(
        action="application.approved",
        actor=actor,
        target=member,
        unit=unit,
        summary={"application": application.code},
    )
    notify(
        mobile=application.mobile,
        recipient=member.user,
        kind="application.approved",
        title="入队申请已通过",
        body=f"您申请加入{application.team.name}（编号 {application.code}）已通过审核，"
        "请用手机号和申请时设置的密码登录，开始见习。",
    )
    return member


@transaction.atomic
def reject_application(*, actor, application: Application, reason: str) -> Application:
    """Reject with a reason the applicant can read on the status page."""
    application = _open(application)
    team = Unit.objects.get(pk=application.team_id)
    access.require(actor, "members.manage", team, "您无权审核该申请。")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(
            "请填写未通过的原因，申请人将看到它。", code="reason_required", field="reason"
        )
    if len(reason) > 200:
        raise DomainError("原因不能超过200字。", code="too_long", field="reason")
    Application.objects.filter(pk=application.pk).update(
        status=ApplicationStatus.REJECTED,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_reason=reason,
        password_hash="",
    )
    application.refresh_from_db()
    record_event(
        action="application.rejected",
        actor=actor,
        target=application,
        target_label=f"{application.code} {mask_name(application.name)}",
        unit=team,
        summary={"reason": reason},
    )
    notify(
        mobile=application.mobile,
        kind="application.rejected",
        title="入队申请未通过",
        body=f"您申请加入{team.name}（编号 {application.code}）未通过审核。原因：{reason}",
    )
    return application
