"""Default safety risk assessments (5.4.7: every activity has one, not only high-risk ones).

Writing one for every activity has to be cheap: each association keeps one text per kind of
activity, edited once; the publish form is pre-filled with it and an API client that sends none
gets it. The nearest association at or above the activity's audience unit (where the members
who take part sit) that has a text for the kind wins; without one a built-in text applies. The
text used is stored on the activity, so a later edit of a default changes no activity."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.activities.models import ActivityKind, RiskAssessmentDefault
from hongfeng.audit.services import record_event
from hongfeng.core.errors import DomainError, StaleVersion
from hongfeng.orgs.models import ASSOCIATION_KINDS, Unit

__all__ = [
    "BUILTIN_RISK_ASSESSMENTS",
    "RISK_TEXT_MAX",
    "RiskDefault",
    "default_risk_assessment",
    "risk_defaults_for_units",
    "risk_defaults_of",
    "save_risk_default",
]

RISK_TEXT_MAX = 2000

# What every kind of activity risks and how it is handled, for an association that has not
# written its own yet: short, concrete, in the words a captain would use.
BUILTIN_RISK_ASSESSMENTS: dict[str, str] = {
    ActivityKind.RISK_INSPECTION: (
        "主要风险：进入店铺、工地等场所时的坠物、触电、交通风险，与被检查人员发生冲突。"
        "措施：两人以上同行，佩戴义警标识，只查看不动手处置，发现重大隐患立即报告派出所。"
    ),
    ActivityKind.MEDIATION: (
        "主要风险：当事人情绪激动引发言语或肢体冲突。"
        "措施：在调解室或公开场所进行，至少两人参与，不单独上门，冲突升级时立即报警并撤离。"
    ),
    ActivityKind.PATROL: (
        "主要风险：道路交通、夜间视线差、遇到可疑人员或违法行为。"
        "措施：两人一组，穿反光背心，夜间配备肩灯和对讲机；发现情况先报警，不追捕、不执法。"
    ),
    ActivityKind.CARE: (
        "主要风险：入户探访时的人身安全、被服务对象突发疾病。"
        "措施：两人以上入户，提前与社区或家属联系，遇紧急情况拨打 120 并通知社区。"
    ),
    ActivityKind.PUBLICITY: (
        "主要风险：人员聚集处的拥挤、踩踏和交通风险，天气变化。"
        "措施：选择开阔场地，设专人维持秩序，关注天气，备好饮用水和急救包。"
    ),
    ActivityKind.COORDINATED_RESPONSE: (
        "主要风险：现场情况复杂，可能涉及交通、水域或冲突等危险。"
        "措施：服从民警现场指挥，只承担职责范围内的辅助任务，佩戴防护装备，不单独行动。"
    ),
    ActivityKind.TRAINING: (
        "主要风险：实操训练中的扭伤、摔伤，场地用电和消防安全。"
        "措施：训练前热身，由教员示范并全程看护，场地配备急救包，明确疏散通道。"
    ),
    ActivityKind.SPECIAL: (
        "主要风险：活动人员较多，存在拥挤、交通和天气风险。"
        "措施：活动前明确分工和集合点，设安全员，备好急救包，遇恶劣天气调整或取消。"
    ),
    ActivityKind.SECURITY_DUTY: (
        "主要风险：人群拥挤、踩踏，突发冲突或治安事件。"
        "措施：按民警部署定岗值守，佩戴标识和对讲机，发现异常立即报告，不参与处置冲突。"
    ),
    ActivityKind.OTHER: (
        "主要风险：活动现场的交通、天气和人身安全风险。"
        "措施：活动前说明安全注意事项，两人以上同行，遇到危险先保证自身安全并及时报告。"
    ),
}


@dataclass(frozen=True)
class RiskDefault:
    """The default for one kind as it applies to an association: its own text (`row`), else
    the text inherited from an association above (`source` names it), else the built-in one."""

    kind: str
    label: str
    text: str
    row: RiskAssessmentDefault | None
    source: Unit | None  # the association whose text applies; None = built in


def _custom_by_association(association_ids) -> dict[int, dict[str, RiskAssessmentDefault]]:
    found: dict[int, dict[str, RiskAssessmentDefault]] = {}
    rows = RiskAssessmentDefault.objects.filter(association_id__in=list(association_ids))
    for row in rows.select_related("updated_by"):
        found.setdefault(row.association_id, {})[row.kind] = row
    return found


def _nearest(chain: list[int], custom: dict, kind: str) -> RiskAssessmentDefault | None:
    """The row of the nearest association in `chain` (root first) with a text for `kind`."""
    for unit_id in reversed(chain):
        row = custom.get(unit_id, {}).get(kind)
        if row is not None:
            return row
    return None


def default_risk_assessment(*, unit: Unit, kind: str) -> str:
    """The default text for an activity of `kind` whose members come from `unit` (one query)."""
    chain = [*unit.ancestor_ids(), unit.pk]
    row = _nearest(chain, _custom_by_association(chain), kind)
    return row.text if row is not None else BUILTIN_RISK_ASSESSMENTS.get(kind, "")


def risk_defaults_for_units(units) -> dict:
    """What the publish form needs to pre-fill the text for whichever unit and kind are chosen,
    in one query: the built-in texts, the associations' own texts, and for each unit the
    associations above it that have any (nearest first). Only associations that wrote a text
    are listed, so the page stays small at province scale."""
    chains = {u.pk: [*u.ancestor_ids(), u.pk] for u in units}
    custom = _custom_by_association({i for chain in chains.values() for i in chain})
    return {
        "builtin": dict(BUILTIN_RISK_ASSESSMENTS),
        "custom": {
            str(a): {kind: row.text for kind, row in rows.items()} for a, rows in custom.items()
        },
        "units": {
            str(pk): [i for i in reversed(chain) if i in custom] for pk, chain in chains.items()
        },
    }


def risk_defaults_of(association: Unit) -> list[RiskDefault]:
    """Every kind's default as it applies to the association (its page), one query."""
    chain = [*association.ancestor_ids(), association.pk]
    custom = _custom_by_association(chain)
    sources = {u.pk: u for u in Unit.objects.filter(pk__in=list(custom))}
    defaults = []
    for kind, label in ActivityKind.choices:
        row = _nearest(chain, custom, kind)
        defaults.append(
            RiskDefault(
                kind=kind,
                label=label,
                text=row.text if row else BUILTIN_RISK_ASSESSMENTS[kind],
                row=row if row and row.association_id == association.pk else None,
                source=sources.get(row.association_id) if row else None,
            )
        )
    return defaults


def _require_association(actor, association: Unit) -> None:
    # Only association admins reach an association unit for activities.manage (captains,
    # stations and bureaus manage teams and police units), so no capability of its own.
    access.require(actor, "activities.manage", association, "只有协会管理员可以修改风险评估模板。")
    if association.kind not in ASSOCIATION_KINDS:
        raise DomainError(
            "风险评估模板由义警协会维护。", code="not_an_association", field="association_id"
        )


@transaction.atomic
def save_risk_default(
    *, actor, association: Unit, kind: str, text: str, expected_version: int | None = None
) -> RiskAssessmentDefault:
    """Write the association's default risk assessment for `kind` (5.4.7), audited. A form
    read before someone else saved (`expected_version` behind) is refused with 409."""
    _require_association(actor, association)
    if kind not in ActivityKind.values:
        raise DomainError("未知的活动类型。", code="invalid_choice", field="kind")
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写风险评估内容。", code="required", field="text")
    if len(text) > RISK_TEXT_MAX:
        raise DomainError(f"内容过长（最多{RISK_TEXT_MAX}字）。", code="too_long", field="text")
    row = (
        RiskAssessmentDefault.objects.select_for_update()
        .filter(association=association, kind=kind)
        .first()
    )
    if expected_version is not None and (row.version if row else 0) != expected_version:
        raise StaleVersion(field="version")
    now = timezone.now()
    if row is None:
        row = RiskAssessmentDefault.objects.create(
            association=association, kind=kind, text=text, updated_by=actor, updated_at=now
        )
    elif row.text != text:
        row.text, row.updated_by, row.updated_at = text, actor, now
        row.version += 1
        row.save(update_fields=["text", "updated_by", "updated_at", "version"])
    else:
        return row  # nothing changed: nothing to record
    record_event(
        action="activity.risk_default_saved",
        actor=actor,
        target=association,
        unit=association,
        summary={"kind": kind, "version": row.version, "length": len(text)},
    )
    return row
