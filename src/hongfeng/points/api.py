"""Points over the API: my points and level, a member's (in scope), the entries with their
explanations, and the associations' rule versions."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from hongfeng.accounts import access
from hongfeng.core.api_types import Id, Text
from hongfeng.core.errors import NotFound
from hongfeng.core.pagination import Pagination
from hongfeng.core.registry import ApiRouter, MeRoute
from hongfeng.members.selectors import get_member_for_user, own_member
from hongfeng.orgs.api import ERRORS, ErrorOut, UnitRef
from hongfeng.points import selectors, services
from hongfeng.points.models import PointsRule, Source

# Mounted under /api/v1, each router under its own prefix (registered from this app's
# registrations; docs/api.md). Operation paths below are relative to the prefix; a parameter
# of a prefix ("{member_id}") is declared `Annotated[Id, Path()]`, because ninja reads path
# parameters only from an operation's own path.
member_router = Router()
rules_router = Router()
ratings_router = Router()
leaderboard_router = Router()
me_router = Router()
TAGS = ("积分与等级",)
API_ROUTERS = [
    ApiRouter("/members/{member_id}/points", member_router, TAGS),
    ApiRouter("/points-rules", rules_router, TAGS),
    ApiRouter("/star-ratings", ratings_router, TAGS),
    ApiRouter("/leaderboard", leaderboard_router, TAGS),
]
# The caller's own, under /api/v1/me (hongfeng.core.me).
ME_ROUTES = [
    MeRoute("/points", me_router, TAGS),
]
public_router = Router()
PUBLIC_ROUTER = ApiRouter("/public/star-ratings", public_router, ("公开公示",))


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


@me_router.get("", response={200: PointsSummaryOut, **ERRORS})
def my_points(request):
    """My totals, level and how far to the next level (7.2.2)."""
    return selectors.summary(_own(request))


@me_router.get("/entries", response=list[EntryOut])
@paginate(Pagination)
def my_entries(request):
    """Every entry of my ledger, newest first, each with its explanation."""
    return selectors.entries_of(_own(request))


@member_router.get("", response={200: PointsSummaryOut, **ERRORS})
def member_points(request, member_id: Annotated[Id, Path()]):
    return selectors.summary(get_member_for_user(request.user, member_id))


@member_router.get("/entries", response=list[EntryOut])
@paginate(Pagination)
def member_entries(request, member_id: Annotated[Id, Path()]):
    return selectors.entries_of(get_member_for_user(request.user, member_id))


class PointsRuleIn(Schema):
    association_id: Id
    per_hour: Decimal = Field(..., description="每小时积分（默认 10）")
    difficulty: dict[str, Decimal] = Field(..., description="normal/harder/hard/high_risk 的系数")
    quality: dict[str, Decimal] = Field(..., description="excellent/good/pass/fail 的系数")
    effective_from: datetime | None = Field(
        None, description="生效时间（默认立即；不能早于现在，最多提前一年）"
    )
    note: Text = Field("", max_length=200)


class PointsRuleOut(Schema):
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


@rules_router.get("", response=list[PointsRuleOut])
@paginate(Pagination)
def list_rules(request):
    """Rule versions of the associations the caller can see, newest first."""
    from hongfeng.orgs.models import Unit

    return PointsRule.objects.filter(
        association__in=Unit.objects.visible_to(request.user)
    ).select_related("association")


@rules_router.post("", response={201: PointsRuleOut, **ERRORS})
def publish_rule(request, payload: PointsRuleIn):
    """A new version of an association's points rule, in force from `effective_from` (default
    now; association admins)."""
    association = access.get_unit_for_user(request.user, payload.association_id)
    rule = services.publish_rule(
        actor=request.user,
        association=association,
        per_hour=payload.per_hour,
        difficulty={k: str(v) for k, v in payload.difficulty.items()},
        quality={k: str(v) for k, v in payload.quality.items()},
        note=payload.note,
        effective_from=payload.effective_from,
    )
    return Status(201, PointsRule.objects.select_related("association").get(pk=rule.pk))


# ---- annual team star rating (7.2.3) and leaderboards ------------------------------------------


class StarRatingRunIn(Schema):
    association_id: Id
    year: int = Field(..., ge=2000, le=2100)


class TeamRatingOut(Schema):
    team: UnitRef
    points: Decimal
    rank: int
    base_stars: int = Field(..., description="按名次得到的星级（晋升前）")
    stars: int = Field(..., description="最终星级（连续两年三星 → 四星，三年 → 五星）")

    @staticmethod
    def resolve_team(obj):
        return {"id": obj.team.pk, "name": obj.team.name, "kind": obj.team.kind}


class RatingRunOut(Schema):
    id: int
    association: UnitRef
    year: int
    published: bool
    created_at: datetime
    results: list[TeamRatingOut]

    @staticmethod
    def resolve_association(obj):
        u = obj.association
        return {"id": u.pk, "name": u.name, "kind": u.kind}

    @staticmethod
    def resolve_results(obj):
        return list(obj.results.all())


class CheckOut(Schema):
    consistent: bool
    problems: list[str]


@ratings_router.post("", response={201: RatingRunOut, **ERRORS})
def run_rating(request, payload: StarRatingRunIn):
    """Rate every team of an association for a year (7.2.3); the run keeps its inputs."""
    association = access.get_unit_for_user(request.user, payload.association_id)
    run = services.run_rating(actor=request.user, association=association, year=payload.year)
    return Status(201, selectors.get_run_for_user(request.user, run.pk))


@ratings_router.get("", response=list[RatingRunOut])
@paginate(Pagination)
def list_ratings(request, association_id: Id | None = None, year: int | None = None):
    rows = selectors.runs_for(request.user)
    if association_id:
        rows = rows.filter(association_id=association_id)
    if year:
        rows = rows.filter(year=year)
    return rows


@ratings_router.get("/{run_id}", response={200: RatingRunOut, **ERRORS})
def get_rating(request, run_id: Id):
    return selectors.get_run_for_user(request.user, run_id)


@ratings_router.get("/{run_id}/check", response={200: CheckOut, **ERRORS})
def check_rating(request, run_id: Id):
    """Re-check a stored run against today's ledger."""
    problems = services.check_rating(selectors.get_run_for_user(request.user, run_id, staff=True))
    return {"consistent": not problems, "problems": problems}


@ratings_router.post("/{run_id}/publish", response={200: RatingRunOut, **ERRORS})
def publish_rating(request, run_id: Id):
    services.publish_rating(
        actor=request.user, run=selectors.get_run_for_user(request.user, run_id)
    )
    return selectors.get_run_for_user(request.user, run_id)


@public_router.get("/{run_id}", response={200: RatingRunOut, 404: ErrorOut}, auth=None)
def public_rating(request, run_id: Id):
    """A published rating, for everyone (7.2.3: ratings are published)."""
    from hongfeng.points.models import RatingRun

    run = (
        RatingRun.objects.filter(pk=run_id, published=True)
        .select_related("association")
        .prefetch_related("results__team")
        .first()
    )
    if run is None:
        raise NotFound()
    return run


class BoardRow(Schema):
    name: str
    unit: str
    this: Decimal | None = None
    last: Decimal | None = None
    delta: Decimal | None = None
    months: int | None = None


class LeaderboardOut(Schema):
    unit: UnitRef
    month: str
    top: list[BoardRow]
    improved: list[BoardRow]
    steady: list[BoardRow]


@leaderboard_router.get("", response={200: LeaderboardOut, **ERRORS})
def leaderboard(request, unit_id: Id, month: str = Query(..., pattern=r"^\d{4}-\d{2}$")):
    """The month's boards for a unit's members (names masked): totals, improvement on the month
    before, and consecutive months with service."""
    from hongfeng.activities.services import parse_month

    unit = access.get_unit_for_user(request.user, unit_id, "members.view")
    board = selectors.leaderboard(unit, parse_month(month))
    return {"unit": {"id": unit.pk, "name": unit.name, "kind": unit.kind}, "month": month, **board}
