"""Activity services, split by subject: publishing (publishing.py), who may join
(eligibility.py), default risk assessments (risk.py), sign-up
(signups.py), check-in (checkins.py), hours, ratings and evaluation (completion.py), the monthly
公示 (attendance.py) and the clock-driven sweep (sweep.py). Import from here."""

from hongfeng.activities.services.attendance import *  # noqa: F403
from hongfeng.activities.services.checkins import *  # noqa: F403
from hongfeng.activities.services.completion import *  # noqa: F403
from hongfeng.activities.services.eligibility import *  # noqa: F403
from hongfeng.activities.services.publishing import *  # noqa: F403
from hongfeng.activities.services.risk import *  # noqa: F403
from hongfeng.activities.services.signups import *  # noqa: F403
from hongfeng.activities.services.sweep import *  # noqa: F403
