"""Member services, split by subject: who may get a member file (identity.py), registering and
editing it (files.py), status, partner and moves (membership.py), what it records
(records.py), the reveal and consents (privacy.py) and recruitment (recruitment.py). Import
from here."""

from hongfeng.members.services.files import (
    MemberData,
    bump_member,
    current_data,
    placeable_unit,
    register_member,
    set_photo,
    update_member,
    update_own_contact,
)
from hongfeng.members.services.identity import (
    ID_INDEX,
    MIN_AGE,
    MIN_JOINING_AGE,
    attachable_account,
    check_age,
    check_joined_on,
    clean_person_name,
    find_member_by_id_number,
    id_number_index,
)
from hongfeng.members.services.membership import change_status, move_member, set_partner
from hongfeng.members.services.privacy import REVEALABLE, record_consent, reveal
from hongfeng.members.services.records import (
    add_certificate,
    add_insurance,
    issue_equipment,
    record_pre_job_training,
    remove_certificate,
    return_equipment,
)
from hongfeng.members.services.recruitment import (
    PRIVACY_NOTICE_VERSION,
    approve_application,
    current_charter,
    find_application,
    publish_charter,
    recruiting_teams,
    reject_application,
    reviewable_applications,
    submit_application,
)

__all__ = [
    "ID_INDEX",
    "MIN_AGE",
    "MIN_JOINING_AGE",
    "PRIVACY_NOTICE_VERSION",
    "REVEALABLE",
    "MemberData",
    "add_certificate",
    "add_insurance",
    "approve_application",
    "attachable_account",
    "bump_member",
    "change_status",
    "check_age",
    "check_joined_on",
    "clean_person_name",
    "current_charter",
    "current_data",
    "find_application",
    "find_member_by_id_number",
    "id_number_index",
    "issue_equipment",
    "move_member",
    "placeable_unit",
    "publish_charter",
    "record_consent",
    "record_pre_job_training",
    "recruiting_teams",
    "register_member",
    "reject_application",
    "remove_certificate",
    "return_equipment",
    "reveal",
    "reviewable_applications",
    "set_partner",
    "set_photo",
    "submit_application",
    "update_member",
    "update_own_contact",
]
