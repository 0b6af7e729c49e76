"""/api/v1/me/…: the caller's own things, across apps — their account (/me, /me/password),
their activities and inbox, points, honours, certificates, warnings and redemption orders.

Each app registers its part as a `MeRoute` (registry.me_routes) with the path below /me it
serves ("/points"; "" for /me itself), and `mounts()` gives hongfeng.api the prefix of each. They
are mounted one by one rather than as children of one /me router, because ninja writes a
child mounted at "" under /me as "/me/" — and the account's own path is /me, without the slash.
Everything here answers for the caller only: there is no id in these paths to reach another
person's records.
"""

from hongfeng.core import registry


def mounts() -> list[tuple[str, object, list[str]]]:
    """(prefix under /api/v1, router, OpenAPI tags) for every registered /me route."""
    return [(f"/me{route.prefix}", route.router, list(route.tags)) for route in registry.me_routes]
