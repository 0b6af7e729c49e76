"""What the members app plugs into core (called from MembersConfig.ready();
docs/architecture.md)."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, Reach

SUBTREE, GUIDED = Reach.SUBTREE, Reach.GUIDED
_KEEPERS = (Role.ASSOCIATION_ADMIN, Role.CAPTAIN)

# Member files (一人一档): who reads them masked, who keeps them, who may reveal plaintext
# (with a reason, audited). The three powers get none of these: no business personal data.
CAPABILITIES = [
    Capability(
        "members.view",
        "查看队员档案（脱敏）",
        {
            **dict.fromkeys(_KEEPERS, SUBTREE),
            Role.BUREAU_OFFICER: GUIDED,
            Role.STATION_OFFICER: GUIDED,
            Role.SQUAD_LEADER: SUBTREE,
            Role.GROUP_LEADER: SUBTREE,
        },
    ),
    # A squad leader keeps the squad's files but sees personal data masked.
    Capability(
        "members.manage",
        "维护队员档案",
        {**dict.fromkeys(_KEEPERS, SUBTREE), Role.SQUAD_LEADER: SUBTREE},
    ),
    # 属地管理: the station knows the real names of the volunteers it guides.
    Capability(
        "members.reveal",
        "查看明文个人信息（说明理由，留审计）",
        {**dict.fromkeys(_KEEPERS, SUBTREE), Role.STATION_OFFICER: GUIDED},
    ),
]


def register() -> None:
    registry.capabilities.register_all(CAPABILITIES)
