"""Honour titles (荣誉称号, 5.2.10): defined by an association, granted by their rule (settled
service hours or cumulative points reaching a threshold) or by an admin with a reason.

`grant_honours_by_rule` is idempotent (one grant per member and title, enforced by a unique
constraint as well). It runs when a title is created (members already past the threshold get it
at once), from the admin action 「按规则授予」 (POST /associations/{id}/honours/apply-rules), and
from `hongfeng grant_honours` (cron, daily) for everything else."""

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event, record_events
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.honours.models import HonourGrant, HonourTitle, ThresholdKind
from hongfeng.honours.services.common import clean_text
from hongfeng.members.models import SERVING, Member
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit

MAX_THRESHOLD = Decimal("1000000")
RULE_ACTOR_LABEL = "系统（荣誉规则）"


def _threshold(kind: str, value) -> Decimal | None:
    if kind not in ThresholdKind.values:
        raise DomainError("未知的授予方式。", code="invalid_kind", field="threshold_kind")
    if kind == ThresholdKind.MANUAL:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(
            "门槛须为数字。", code="invalid_threshold", field="threshold_value"
        ) from None
    if not number.is_finite() or number <= 0 or number > MAX_THRESHOLD:
        raise DomainError(
            "按规则授予的称号须设大于 0 的门槛（小时或积分）。",
            code="invalid_threshold",
            field="threshold_value",
        )
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def create_title(
    *,
    actor,
    association: Unit,
    name: str,
    threshold_kind: str,
    threshold_value=None,
    description: str = "",
) -> HonourTitle:
    """An association's new honour title. A rule title is granted at once to every serving
    member of the association who already meets it."""
    access.require(actor, "honours.rules", association, "只有协会管理员可以设立荣誉称号。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "荣誉称号由义警协会设立。", code="not_an_association", field="association_id"
        )
    name = clean_text(name, field="name", label="称号名称", limit=40)
    description = clean_text(
        description, field="description", label="说明", limit=200, required=False
    )
    value = _threshold(threshold_kind, threshold_value)
    if HonourTitle.objects.filter(association=association, name=name).exists():
        raise Conflict("该协会已有同名荣誉称号。", code="duplicate_title", field="name")
    title = HonourTitle.objects.create(
        association=association,
        name=name,
        description=description,
        threshold_kind=threshold_kind,
        threshold_value=value,
        created_by=actor,
        created_at=timezone.now(),
    )
    record_event(
        action="honour.title_created",
        actor=actor,
        target=title,
        target_label=name,
        unit=association,
        summary={"kind": threshold_kind, "threshold": str(value) if value else None},
    )
    if value is not None:
        grant_honours_by_rule(title=title)
    return title


@transaction.atomic
def retire_title(*, actor, title: HonourTitle) -> HonourTitle:
    """Stop using a title (no new grants); grants already made stay."""
    access.require(actor, "honours.rules", title.association, "只有协会管理员可以停用荣誉称号。")
    if title.active:
        HonourTitle.objects.filter(pk=title.pk).update(active=False)
        title.active = False
        record_event(
            action="honour.title_retired",
            actor=actor,
            target=title,
            target_label=title.name,
            unit=title.association,
        )
    return title


def _tell(member: Member, grant: HonourGrant, title: HonourTitle) -> None:
    from hongfeng.notices.services import notify_all

    notify_all(
        user=member.user,
        kind="honour_granted",
        title=f"获得荣誉称号「{title.name}」",
        body=f"{grant.reason}。可在「荣誉证书」页开具荣誉证书。",
        ref=f"honour:{grant.pk}",
        link="/honours/",
    )


@transaction.atomic
def grant_honour(*, actor, member: Member, title: HonourTitle, reason: str) -> HonourGrant:
    """An admin grants a title (any title of an association above the member, including
    rule titles the member has not reached yet) with a reason."""
    access.require(actor, "honours.grant", member.unit, "您无权为该队员授予荣誉。")
    if member.user_id == actor.pk:
        raise Forbidden("不能为自己授予荣誉。")
    if title.association_id not in member.unit.ancestor_ids() or not title.active:
        raise DomainError(
            "该称号不适用于这名队员（须为其所属协会启用中的称号）。",
            code="title_not_applicable",
            field="title_id",
        )
    reason = clean_text(reason, field="reason", label="授予事由", limit=200)
    if HonourGrant.objects.filter(member=member, title=title).exists():
        raise Conflict("该队员已获得这一荣誉称号。", code="already_granted", field="title_id")
    now = timezone.now()
    try:
        with transaction.atomic():
            grant = HonourGrant.objects.create(
                member=member,
                title=title,
                by_rule=False,
                granted_by=actor,
                granted_on=timezone.localdate(),
                granted_at=now,
                reason=reason,
            )
    except IntegrityError:
        raise Conflict(
            "该队员已获得这一荣誉称号。", code="already_granted", field="title_id"
        ) from None
    record_event(
        action="honour.granted",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"title": title.name, "title_id": title.pk, "by_rule": False, "reason": reason},
    )
    _tell(member, grant, title)
    return grant


def _qualifying(title: HonourTitle, members) -> dict[int, Decimal]:
    """Member id → their total (hours or points) for members at or past the threshold who do
    not hold the title yet. One aggregate query."""
    from hongfeng.activities.models import HoursEntry
    from hongfeng.points.models import MemberPoints

    held = HonourGrant.objects.filter(title=title, member=OuterRef("member"))
    if title.threshold_kind == ThresholdKind.HOURS:
        rows = (
            HoursEntry.objects.filter(member__in=members)
            .values("member")
            .annotate(total=Sum("hours"))
            .filter(total__gte=title.threshold_value)
            .filter(~Exists(held))
            .values_list("member", "total")
        )
    else:
        rows = (
            MemberPoints.objects.filter(member__in=members, earned__gte=title.threshold_value)
            .filter(~Exists(held))
            .values_list("member", "earned")
        )
    return {member_id: Decimal(total).quantize(Decimal("0.01")) for member_id, total in rows}


@transaction.atomic
def grant_honours_by_rule(
    *, association: Unit | None = None, title: HonourTitle | None = None, member=None, actor=None
) -> list[HonourGrant]:
    """Grant every active rule title (of `association` and the associations below it, or just
    `title`) to each serving member who meets it and does not hold it yet (limited to `member`
    if given). Idempotent: running it again grants nothing new. `actor` is the admin who ran it
    (None for the daily command)."""
    if association is not None and actor is not None:
        access.require(actor, "honours.rules", association, "只有协会管理员可以按规则授予荣誉。")
    titles = HonourTitle.objects.filter(active=True).exclude(threshold_kind=ThresholdKind.MANUAL)
    if title is not None:
        titles = titles.filter(pk=title.pk)
    if association is not None:
        titles = titles.filter(association__path__startswith=association.path)
    if member is not None:
        titles = titles.filter(association_id__in=member.unit.ancestor_ids())
    titles = list(titles.select_related("association"))
    now, today = timezone.now(), timezone.localdate()
    made: list[HonourGrant] = []
    for t in titles:
        members = Member.objects.filter(
            unit__path__startswith=t.association.path, status__in=SERVING
        )
        if member is not None:
            members = members.filter(pk=member.pk)
        qualifying = _qualifying(t, members.values("pk"))
        if not qualifying:
            continue
        unit_word = "小时" if t.threshold_kind == ThresholdKind.HOURS else "分"
        HonourGrant.objects.bulk_create(
            [
                HonourGrant(
                    member_id=member_id,
                    title=t,
                    by_rule=True,
                    granted_by=None,
                    granted_on=today,
                    granted_at=now,
                    reason=f"{t.rule_label}（达到时 {total.normalize():f} {unit_word}）",
                    basis={t.threshold_kind: str(total)},
                )
                for member_id, total in sorted(qualifying.items())
            ],
            ignore_conflicts=True,  # a concurrent run granted it first: still once
        )
        made.extend(
            HonourGrant.objects.filter(title=t, member_id__in=list(qualifying), granted_at=now)
            .select_related("title", "member__user", "member__unit")
            .order_by("member_id")
        )
    record_events(
        [
            {
                "action": "honour.granted",
                "actor": actor,
                "actor_label": None if actor else RULE_ACTOR_LABEL,
                "target": g.member,
                "unit": g.member.unit,
                "summary": {"title": g.title.name, "title_id": g.title_id, "by_rule": True},
            }
            for g in made
        ]
    )
    for g in made:
        _tell(g.member, g, g.title)
    return made
