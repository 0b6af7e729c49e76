"""Points over the API: my points and level, a member's (in scope), the entries with their
explanations, and the associations' rule versions."""

from datetime import datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import NotFound
from hongfeng.core.pagination import Pagination
from hongfeng.members.selectors import get_member_for_user, own_member
from hongfeng.orgs.api import ERRORS, UnitRef
from hongfeng.points import selectors, services
from hongfeng.points.models import PointsRule, Source

router = Router()


class PointsSummaryOut(Schema):
    earned: Decimal = Field(..., description="累计获得积分（决定等级；扣分会减少，兑换不会）")
    balance: Decimal = Field(..., description="可用积分余额（兑换会减少）")
    level: int
    level_label: str
    next_level_label: str | None
    next_threshold: int | None
    to_next: Decimal | None
    progress: int | None = Field(None, description="本级到下一级的进度（0–100）")


class EntryOut(Schema):
    id: int
    source: Source
    source_label: str
    amount: Decimal
    earned: Decimal
    explanation: str
    rule_label: str
    activity_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_source_label(obj) -> str:
        return obj.get_source_display()


def _own(request):
    member = own_member(request.user)
    if member is None:
        raise NotFound("您还没有队员档案。")
    return member


@router.get("/me/points", response={200: PointsSummaryOut, **ERRORS})
def my_points(request):
    """My totals, level and how far to the next level (7.2.2)."""
    return selectors.summary(_own(request))


@router.get("/me/points/entries", response=list[EntryOut])
@paginate(Pagination)
def my_entries(request):
    """Every entry of my ledger, newest first, each with its explanation."""
    return selectors.entries_of(_own(request))


@router.get("/members/{member_id}/points", response={200: PointsSummaryOut, **ERRORS})
def member_points(request, member_id: Id):
    return selectors.summary(get_member_for_user(request.user, member_id))


@router.get("/members/{member_id}/points/entries", response=list[EntryOut])
@paginate(Pagination)
def member_entries(request, member_id: Id):
    return selectors.entries_of(get_member_for_user(request.user, member_id))


class RuleIn(Schema):
    association_id: Id
    per_hour: Decimal = Field(..., description="每小时积分（默认 10）")
    difficulty: dict[str, Decimal] = Field(..., description="normal/harder/hard/high_risk 的系数")
    quality: dict[str, Decimal] = Field(..., description="excellent/good/pass/fail 的系数")
    note: Text = Field("", max_length=200)


class RuleOut(Schema):
    id: int
    association: UnitRef
    version: int
    per_hour: Decimal
    difficulty: dict[str, str]
    quality: dict[str, str]
    effective_from: datetime
    note: str

    @staticmethod
    def resolve_association(obj):
        u = obj.association
        return {"id": u.pk, "name": u.name, "kind": u.kind}


@router.get("/points-rules", response=list[RuleOut])
@paginate(Pagination)
def list_rules(request):
    """Rule versions of the associations the caller can see, newest first."""
    from hongfeng.orgs.models import Unit

    return PointsRule.objects.filter(
        association__in=Unit.objects.visible_to(request.user)
    ).select_related("association")


@router.post("/points-rules", response={201: RuleOut, **ERRORS})
def publish_rule(request, payload: RuleIn):
    """A new version of an association's points rule, in force from now (association admins)."""
    association = access.get_unit_for_user(request.user, payload.association_id)
    rule = services.publish_rule(
        actor=request.user,
        association=association,
        per_hour=payload.per_hour,
        difficulty={k: str(v) for k, v in payload.difficulty.items()},
        quality={k: str(v) for k, v in payload.quality.items()},
        note=payload.note,
    )
    return Status(201, PointsRule.objects.select_related("association").get(pk=rule.pk))
