"""Capabilities: what a role may do, and over which units (the access choke point in
hongfeng.accounts.access reads this table; roles themselves stay in accounts).

A role assignment is "role R over unit U and its subtree" (5.1). Each capability is held by some
roles, each with a reach — the shape of the units it covers from U:

- SUBTREE: U and everything below it (association admins, team leaders, the three powers);
- BELOW:   everything strictly below U (you manage your subtree, not your own unit);
- GUIDED:  U's subtree plus every team guided by a station in it, with the teams' squads and
           groups (属地管理 5.1.1: stations and bureaus reach the teams they guide, although those
           teams sit under an association);
- CHAIN:   U and its ancestors up to its team (a 队员 sees their own units' shared information).

Each app registers the capabilities it checks, named "<app>.<verb>", from its AppConfig.ready().
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from hongfeng.core.registry.base import Registry, RegistryError


class Reach(StrEnum):
    SUBTREE = "subtree"
    BELOW = "below"
    GUIDED = "guided"
    CHAIN = "chain"


@dataclass(frozen=True)
class Capability:
    """One capability: its name, what it means (in Chinese, for people reading the role
    matrix), and the reach each role that holds it has (roles not listed do not hold it)."""

    name: str
    label: str
    reach: Mapping[str, Reach]


_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _check(capability: Capability) -> None:
    if not _NAME.match(capability.name):
        raise RegistryError(f"capability {capability.name!r}: name it '<app>.<verb>'")
    if not capability.label:
        raise RegistryError(f"capability {capability.name!r} needs a Chinese label")
    wrong = [role for role, reach in capability.reach.items() if not isinstance(reach, Reach)]
    if wrong:
        raise RegistryError(f"capability {capability.name!r}: give {wrong} a Reach")


capabilities: Registry[Capability] = Registry("capabilities", key=lambda c: c.name, check=_check)
