"""Default safety risk assessments over the API (5.4.7): read the defaults that apply to a unit
(what a client pre-fills when publishing for it) and let an association admin write the
association's own text for one kind of activity. Mounted on the activities router."""

from ninja import Field, Router, Schema

from hongfeng.accounts import access
from hongfeng.activities import services
from hongfeng.activities.models import ActivityKind
from hongfeng.core.api_types import Id, Text
from hongfeng.core.registry import ApiRouter
from hongfeng.orgs.api import ERRORS, UnitRef

# Mounted under /api/v1/activity-risk-defaults (registered from activities.registrations).
router = Router()
API_ROUTER = ApiRouter("/activity-risk-defaults", router, ("活动与签到",))


class RiskDefaultOut(Schema):
    kind: ActivityKind
    kind_label: str
    text: str
    own: bool = Field(..., description="该协会自己设定的文本（否则继承上级协会或系统内置）")
    source: UnitRef | None = Field(None, description="文本来自哪个协会；为空表示系统内置")
    version: int | None = Field(None, description="自己设定的文本的版本号（修改时回传）")


class RiskDefaultIn(Schema):
    text: Text = Field(..., min_length=1, max_length=2000)
    version: int | None = Field(None, ge=0, description="乐观锁：读取时的版本号（新建为 0）")


def _body(default: services.RiskDefault) -> dict:
    source = default.source
    return {
        "kind": default.kind,
        "kind_label": default.label,
        "text": default.text,
        "own": default.row is not None,
        "source": {"id": source.pk, "name": source.name, "kind": source.kind} if source else None,
        "version": default.row.version if default.row else None,
    }


@router.get("", response={200: list[RiskDefaultOut], **ERRORS})
def list_risk_defaults(request, unit_id: Id):
    """The default risk assessment of every kind of activity for members of this unit: the
    nearest association's own text, else the built-in one."""
    unit = access.get_unit_for_user(request.user, unit_id)
    return [_body(d) for d in services.risk_defaults_of(unit)]


@router.put(
    "/{association_id}/{kind}",
    response={200: RiskDefaultOut, **ERRORS},
)
def save_risk_default(request, association_id: Id, kind: ActivityKind, payload: RiskDefaultIn):
    """An association admin sets the association's default for one kind (audited)."""
    association = access.get_unit_for_user(request.user, association_id)
    services.save_risk_default(
        actor=request.user,
        association=association,
        kind=str(kind),
        text=payload.text,
        expected_version=payload.version,
    )
    return next(_body(d) for d in services.risk_defaults_of(association) if d.kind == kind)
