"""Activities (活动/任务) and everything that happens around one: publication and broadcast
(4.5 一呼百应, 5.2.3), sign-up with capacity and waitlist, check-in and check-out (5.2.9),
service hours, the organiser's ratings and effect evaluation (6.1.4), and the monthly public
attendance notice (公示, 5.2.9).

Check-ins, reviews, hours entries and status changes are append-only rows; a correction is a
new row, never an edit.

Split by sub-resource: the activity (activity.py), participations (participation.py),
check-ins (checkins.py), hours and the 公示 (hours.py) and idempotency records
(idempotency.py). Import from here.
"""

from hongfeng.activities.models.activity import (
    CHECKIN_OPENS,
    CHECKOUT_GRACE,
    STATUS_FLOW,
    Activity,
    ActivityKind,
    ActivityQuerySet,
    ActivityStatus,
    ActivityStatusChange,
    Difficulty,
    Effect,
    RiskAssessmentDefault,
    activity_and_member_file,
    member_file_of,
    own_member,
)
from hongfeng.activities.models.checkins import (
    CheckIn,
    CheckInKind,
    CheckInMethod,
    CheckInReview,
    Flag,
    ReviewDecision,
)
from hongfeng.activities.models.hours import AttendanceNotice, HoursEntry, HoursSource
from hongfeng.activities.models.idempotency import IdempotencyRecord
from hongfeng.activities.models.participation import (
    Participation,
    ParticipationQuerySet,
    ParticipationStatus,
    Quality,
)

__all__ = [
    "CHECKIN_OPENS",
    "CHECKOUT_GRACE",
    "STATUS_FLOW",
    "Activity",
    "ActivityKind",
    "ActivityQuerySet",
    "ActivityStatus",
    "ActivityStatusChange",
    "AttendanceNotice",
    "CheckIn",
    "CheckInKind",
    "CheckInMethod",
    "CheckInReview",
    "Difficulty",
    "Effect",
    "Flag",
    "HoursEntry",
    "HoursSource",
    "IdempotencyRecord",
    "Participation",
    "ParticipationQuerySet",
    "ParticipationStatus",
    "Quality",
    "ReviewDecision",
    "RiskAssessmentDefault",
    "activity_and_member_file",
    "member_file_of",
    "own_member",
]
