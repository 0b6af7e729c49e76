"""What the activities app plugs into core (called from ActivitiesConfig.ready();
docs/architecture.md)."""

from hongfeng.accounts.models import Role
from hongfeng.activities import selectors
from hongfeng.core import registry
from hongfeng.core.registry import Capability, Reach
from hongfeng.notices import answers

SUBTREE, GUIDED = Reach.SUBTREE, Reach.GUIDED
# Activities (5.2.3): who publishes and runs them — an association, a bureau or station for
# the teams it guides, a team or a squad.
_ORGANISERS = {
    Role.ASSOCIATION_ADMIN: SUBTREE,
    Role.BUREAU_OFFICER: GUIDED,
    Role.STATION_OFFICER: GUIDED,
    Role.CAPTAIN: SUBTREE,
    Role.SQUAD_LEADER: SUBTREE,
}

CAPABILITIES = [
    Capability("activities.view", "查看活动", {**_ORGANISERS, Role.GROUP_LEADER: SUBTREE}),
    Capability("activities.manage", "发布和组织活动", _ORGANISERS),
    # A team's monthly 公示 (5.2.9).
    Capability(
        "activities.publish_notice",
        "发布考勤公示",
        {Role.ASSOCIATION_ADMIN: SUBTREE, Role.CAPTAIN: SUBTREE},
    ),
]


def register() -> None:
    # the inbox shows where a broadcast's answer stands instead of offering 报名 again
    answers.register("activity_broadcast", selectors.broadcast_answers)
    registry.capabilities.register_all(CAPABILITIES)
