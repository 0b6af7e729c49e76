"""Reads of honours, certificates, warnings and exit proposals through the access choke point:
a member reads their own; admins and captains read the members in their reach."""

from django.db.models import Q

from hongfeng.accounts import access
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import NotFound
from hongfeng.honours.models import (
    Certificate,
    ExitProposal,
    HonourGrant,
    HonourTitle,
    MemberWarning,
    ProposalStatus,
    ViolationRule,
)
from hongfeng.orgs.models import Unit


def _member_scope(user, capability: str, field: str = "member") -> Q:
    """Rows about members in the user's reach for `capability`, or about the user's own file."""
    return access.scope_q(user, capability, f"{field}__unit") | Q(**{f"{field}__user": user})


def _anchor_ids(user) -> set[int]:
    """Units at and above the user's assignments and their own member file's unit."""
    ids: set[int] = set()
    for assignment in access.assignments(user):
        if assignment.unit is not None:
            ids.update([*assignment.unit.ancestor_ids(), assignment.unit.pk])
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    if member is not None:
        ids.update(member.unit.ancestor_ids())
    return ids


def titles_for(user):
    """Titles the user can see: those of associations in their reach and of the associations
    above them (a captain or a volunteer sees the titles their association sets)."""
    return (
        HonourTitle.objects.filter(
            Q(association__in=Unit.objects.visible_to(user))
            | Q(association_id__in=_anchor_ids(user))
        )
        .select_related("association")
        .order_by("association__depth", "association__name", "name", "id")
    )


def grantable_titles(user):
    """Active titles the user might grant: of the associations above their units and inside
    their reach to grant."""
    return (
        titles_for(user)
        .filter(active=True)
        .filter(
            Q(association_id__in=_anchor_ids(user))
            | Q(association__in=Unit.objects.filter(access.scope_q(user, "honours.grant")))
        )
    )


def get_title_for_user(user, title_id) -> HonourTitle:
    title = titles_for(user).filter(pk=access.parse_id(title_id)).first()
    if title is None:
        raise NotFound()
    return title


def grants_for(user, *, member=None):
    rows = HonourGrant.objects.filter(_member_scope(user, "honours.grant"))
    if member is not None:
        rows = rows.filter(member=member)
    return rows.select_related("title__association", "member__unit", "granted_by").order_by(
        "-granted_at", "-id"
    )


def get_grant_for_user(user, grant_id) -> HonourGrant:
    grant = grants_for(user).filter(pk=access.parse_id(grant_id)).first()
    if grant is None:
        raise NotFound()
    return grant


def certificates_for(user, *, member=None):
    rows = Certificate.objects.filter(_member_scope(user, "honours.grant"))
    if member is not None:
        rows = rows.filter(member=member)
    return rows.select_related(
        "member__unit", "member__user", "grant__title", "issued_by"
    ).order_by("-issued_at", "-id")


def get_certificate_for_user(user, certificate_id) -> Certificate:
    certificate = certificates_for(user).filter(pk=access.parse_id(certificate_id)).first()
    if certificate is None:
        raise NotFound()
    return certificate


def warnings_for(user, *, member=None):
    rows = MemberWarning.objects.filter(_member_scope(user, "violations.warn"))
    if member is not None:
        rows = rows.filter(member=member)
    return rows.select_related("member__unit", "issued_by", "points_entry").order_by(
        "-issued_at", "-id"
    )


def proposals_for(user, *, status: str | None = None):
    """Exit proposals about members in the user's reach (to warn or to decide), or their own."""
    rows = ExitProposal.objects.filter(
        _member_scope(user, "violations.warn")
        | access.scope_q(user, "violations.decide", "member__unit")
    )
    if status in ProposalStatus.values:
        rows = rows.filter(status=status)
    return rows.select_related("member__unit", "team", "warning", "decided_by").order_by(
        "-proposed_at", "-id"
    )


def get_proposal_for_user(user, proposal_id) -> ExitProposal:
    proposal = proposals_for(user).filter(pk=access.parse_id(proposal_id)).first()
    if proposal is None:
        raise NotFound()
    return proposal


def violation_rule_in_force(unit: Unit) -> ViolationRule | None:
    """The rule row that applies under `unit`: its own, else the nearest association's above
    it (None: the default applies; `services.violation_rule_terms` says what it means)."""
    return (
        ViolationRule.objects.filter(association_id__in=[*unit.ancestor_ids(), unit.pk])
        .select_related("association", "updated_by")
        .order_by("-association__depth")
        .first()
    )


def violation_rule_history(association: Unit, *, limit: int = 20) -> list[dict]:
    """Every change of the association's violation rule, newest first. The rule row is kept
    current in place; its history is the audit trail (`violation.rule_set`, append-only and
    hash-chained), read here by its target — one indexed query."""
    events = AuditEvent.objects.filter(
        action="violation.rule_set", target_type="orgs.unit", target_id=str(association.pk)
    ).order_by("-occurred_at", "-id")[:limit]
    return [
        {
            "at": event.occurred_at,
            "by": event.actor_label,
            "warnings": event.summary.get("warnings"),
            "window_months": event.summary.get("window_months"),
        }
        for event in events
    ]
