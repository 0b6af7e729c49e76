"""The request and response bodies of the violations endpoints (honours.api): the violation
rule, warnings and exit proposals (5.2.10)."""

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema

from hongfeng.core.api_types import Text
from hongfeng.core.masking import mask_name
from hongfeng.honours.models import ProposalStatus
from hongfeng.orgs.api import UnitRef


def unit_ref(unit) -> dict:
    """A unit as the API names it everywhere (orgs.api.UnitRef)."""
    return {"id": unit.pk, "name": unit.name, "kind": unit.kind}


class ViolationRuleIn(Schema):
    warnings: int = Field(2, ge=1, le=10, description="期间内第几次警告时建议退出")
    window_months: int = Field(12, ge=1, le=60, description="期间（月）")


class ViolationRuleOut(Schema):
    association_id: int
    warnings: int
    window_months: int
    label: str
    default: bool


class WarningIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=300)
    evidence: Text = Field(..., min_length=1, max_length=2000, description="证据说明")
    evidence_ref: Text = Field("", max_length=200, description="证据材料的存放位置或编号")
    penalty_points: Decimal | None = Field(None, ge=0, le=1000, description="扣减积分（可选）")


class WarningOut(Schema):
    id: int
    member_id: int
    reason: str
    evidence: str
    evidence_ref: str
    penalty_points: Decimal | None
    issued_by: str
    issued_at: datetime

    @staticmethod
    def resolve_issued_by(obj):
        return obj.issued_by.name


class ProposalOut(Schema):
    id: int
    member_id: int
    member_name: str = Field(..., description="姓名（脱敏）")
    team: UnitRef
    warning_count: int
    rule_label: str
    status: ProposalStatus
    status_label: str
    proposed_at: datetime
    decided_at: datetime | None
    decision_reason: str

    @staticmethod
    def resolve_member_name(obj):
        return mask_name(obj.member.name)

    @staticmethod
    def resolve_team(obj):
        return unit_ref(obj.team)

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class WarningResult(WarningOut):
    exit_proposal: ProposalOut | None = None
