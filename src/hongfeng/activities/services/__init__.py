"""Activity services, split by subject: publishing (publishing.py), the broadcast
(broadcast.py), who may join (eligibility.py), default risk assessments (risk.py), sign-up
(signups.py), check-in (checkins.py), hours, ratings and evaluation (completion.py), the
monthly 公示 (attendance.py) and the clock-driven sweep (sweep.py). Import from here."""

from hongfeng.activities.services.attendance import (
    attendance_rows,
    month_bounds,
    parse_month,
    public_notice,
    publish_attendance_notice,
)
from hongfeng.activities.services.broadcast import (
    queue_broadcast,
    run_broadcast,
    tell_participants,
)
from hongfeng.activities.services.checkins import (
    BatchResult,
    CheckInData,
    auto_check_out,
    check_in,
    check_in_by_id,
    get_checkin_for_user,
    manual_check_in,
    pending_reviews,
    review_check_in,
    sync_offline,
)
from hongfeng.activities.services.completion import (
    computed_hours,
    correct_hours,
    evaluate_activity,
    finish_activity,
    hours_by_member,
    rate_participants,
    settled_hours,
)
from hongfeng.activities.services.eligibility import (
    Reason,
    eligibility,
    eligibility_for_page,
    eligibility_of,
    eligible_members,
    load_eligibility_facts,
)
from hongfeng.activities.services.publishing import (
    ActivityData,
    cancel_activity,
    create_activity,
    get_activity_for_user,
    publish_activity,
    require_visible,
    transition,
    update_activity,
)
from hongfeng.activities.services.risk import (
    BUILTIN_RISK_ASSESSMENTS,
    RISK_TEXT_MAX,
    RiskDefault,
    default_risk_assessment,
    risk_defaults_for_units,
    risk_defaults_of,
    save_risk_default,
)
from hongfeng.activities.services.signups import (
    Ineligible,
    cancel_sign_up,
    decline,
    promote_waitlist,
    sign_up,
)
from hongfeng.activities.services.sweep import (
    sweep_activities,
)

__all__ = [
    "BUILTIN_RISK_ASSESSMENTS",
    "RISK_TEXT_MAX",
    "ActivityData",
    "BatchResult",
    "CheckInData",
    "Ineligible",
    "Reason",
    "RiskDefault",
    "attendance_rows",
    "auto_check_out",
    "cancel_activity",
    "cancel_sign_up",
    "check_in",
    "check_in_by_id",
    "computed_hours",
    "correct_hours",
    "create_activity",
    "decline",
    "default_risk_assessment",
    "eligibility",
    "eligibility_for_page",
    "eligibility_of",
    "eligible_members",
    "evaluate_activity",
    "finish_activity",
    "get_activity_for_user",
    "get_checkin_for_user",
    "hours_by_member",
    "load_eligibility_facts",
    "manual_check_in",
    "month_bounds",
    "parse_month",
    "pending_reviews",
    "promote_waitlist",
    "public_notice",
    "publish_activity",
    "publish_attendance_notice",
    "queue_broadcast",
    "rate_participants",
    "require_visible",
    "review_check_in",
    "risk_defaults_for_units",
    "risk_defaults_of",
    "run_broadcast",
    "save_risk_default",
    "settled_hours",
    "sign_up",
    "sweep_activities",
    "sync_offline",
    "tell_participants",
    "transition",
    "update_activity",
]
