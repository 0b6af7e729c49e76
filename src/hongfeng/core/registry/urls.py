"""Page URLs: each app registers the URL modules it serves and under which prefix
(hongfeng.urls includes them all). The prefix is the first part of the path ("members/"; ""
for pages at the root, such as login/); two apps may not take the same prefix."""

import re
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, RegistryError

_PREFIX = re.compile(r"^([a-z0-9_-]+/)?$")


@dataclass(frozen=True)
class UrlInclude:
    prefix: str  # "members/"
    module: str  # "hongfeng.members.urls" (it sets its own app_name, the URL namespace)


def _check(entry: UrlInclude) -> None:
    if not _PREFIX.match(entry.prefix):
        raise RegistryError(f"page prefix {entry.prefix!r}: one segment and a slash, or ''")


url_includes: Registry[UrlInclude] = Registry("page URLs", key=lambda u: u.prefix, check=_check)
