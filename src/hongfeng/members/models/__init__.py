"""一人一档: one member file per volunteer (5.2.7), with the composition data of 5.2.6, party
membership (5.4.2), insurance (5.4.3), the 1+1 partner (5.4.6) and issued equipment (6.1.3);
recruitment (5.2.2) and roster imports (4.5).

Split by sub-resource: the member file (member.py), what it records beside the person
(records.py), recruitment (recruitment.py) and roster imports (roster_imports.py). Import from
here.
"""

from hongfeng.members.models.member import (
    PAIRING_PERIOD,
    PARTNER_STATUSES,
    SERVING,
    STATUS_FLOW,
    Category,
    Gender,
    Member,
    MemberQuerySet,
    MemberStatus,
    PoliticalStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.models.records import (
    Certificate,
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
)
from hongfeng.members.models.recruitment import (
    Application,
    ApplicationAttempt,
    ApplicationStatus,
    Charter,
    Consent,
    ConsentKind,
)
from hongfeng.members.models.roster_imports import ImportStatus, RosterImport

__all__ = [
    "PAIRING_PERIOD",
    "PARTNER_STATUSES",
    "SERVING",
    "STATUS_FLOW",
    "Application",
    "ApplicationAttempt",
    "ApplicationStatus",
    "Category",
    "Certificate",
    "Charter",
    "Consent",
    "ConsentKind",
    "EquipmentIssue",
    "EquipmentKind",
    "Gender",
    "ImportStatus",
    "InsurancePolicy",
    "Member",
    "MemberQuerySet",
    "MemberStatus",
    "PoliticalStatus",
    "RosterImport",
    "Skill",
    "StatusChange",
]
