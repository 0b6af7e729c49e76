"""What the honours app plugs into core (called from HonoursConfig.ready();
docs/architecture.md)."""

from hongfeng.accounts.models import Role
from hongfeng.core import registry
from hongfeng.core.registry import Capability, Reach
from hongfeng.honours import file_section

SUBTREE = Reach.SUBTREE
_KEEPERS = {Role.ASSOCIATION_ADMIN: SUBTREE, Role.CAPTAIN: SUBTREE}

# Honours, certificates and violations (5.2.10): an association defines honour titles and the
# violation rule; association admins and captains grant honours, issue certificates and
# warnings for members in their subtree; only the captain decides on a proposed exit.
CAPABILITIES = [
    Capability("honours.grant", "授予荣誉、开具证书", _KEEPERS),
    Capability("honours.rules", "设立荣誉称号与警告退出规则", {Role.ASSOCIATION_ADMIN: SUBTREE}),
    Capability("violations.warn", "警告队员", _KEEPERS),
    Capability("violations.decide", "决定队员退出", {Role.CAPTAIN: SUBTREE}),
]


def register() -> None:
    file_section.register()
    registry.capabilities.register_all(CAPABILITIES)
