"""API routers: each app mounts its django-ninja routers under /api/v1/ from its
AppConfig.ready(), each under a prefix of its own; hongfeng.api mounts them all.

A prefix names the resource the router serves ("/units", "/activities"). A router that serves a
sub-resource of another app's resource takes the nested prefix ("/members/{member_id}/points"):
ninja reads path parameters only from an operation's own path, so its operations declare such a
parameter `Annotated[Id, Path()]`. Two routers may not share a prefix, and hongfeng.api refuses two
operations on one method and path.

The caller's own things (/api/v1/me/…) are gathered by hongfeng.core.me: apps register
`MeRoute`s there instead ("/points" serves /api/v1/me/points).
"""

import re
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, RegistryError

_PREFIX = re.compile(r"^(/[a-z0-9{}_-]+)+$")


@dataclass(frozen=True)
class ApiRouter:
    prefix: str  # "/units"
    router: object  # a ninja.Router
    tags: tuple[str, ...]  # the OpenAPI tags (Chinese) its operations are listed under


@dataclass(frozen=True)
class MeRoute:
    prefix: str  # below /me: "/points"; "" for /me itself
    router: object
    tags: tuple[str, ...]


def _check_prefix(route) -> None:
    if route.prefix == "/me" or route.prefix.startswith("/me/"):
        raise RegistryError(f"{route.prefix!r}: register the caller's own things as a MeRoute")
    if not _PREFIX.match(route.prefix):
        raise RegistryError(f"API prefix {route.prefix!r}: '/resource[/…]', no trailing slash")


def _check_me(route: MeRoute) -> None:
    if route.prefix and not _PREFIX.match(route.prefix):
        raise RegistryError(f"/me route {route.prefix!r}: '' or '/thing[/…]'")


api_routers: Registry[ApiRouter] = Registry(
    "API routers", key=lambda r: r.prefix, check=_check_prefix
)
me_routes: Registry[MeRoute] = Registry("/me routes", key=lambda r: r.prefix, check=_check_me)
