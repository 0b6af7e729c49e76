"""The registry every kind of plug-in shares: typed entries under a unique key, filled from the
apps' `AppConfig.ready()`, frozen on first read.

Why frozen: a page, a command or the API reads a registry after Django has loaded every app. An
entry registered later (say from a module imported by a view) would be missing from whatever was
read before it, silently; so once anything has been read, registering raises instead.

Why duplicates raise: two apps claiming one capability, audit code, URL prefix or sweep step is
a mistake that must show when the project starts, not as one app quietly replacing the other.
Registering an equal entry under the same key again is allowed and changes nothing, because
Django runs every `ready()` again when a test swaps INSTALLED_APPS.
"""

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured


class RegistryError(ImproperlyConfigured):
    """A registration that cannot be right: a duplicate key, a registration after the first
    read, an unknown or circular `after`, a malformed entry."""


def by_order(entries: list) -> list:
    """Entries by their `order`, then in registration order (navigation, cards)."""
    return sorted(entries, key=lambda entry: entry.order)  # sorted() is stable


def by_dependencies(entries: list) -> list:
    """Entries after the ones each names in `after`, otherwise in registration order (that
    is, INSTALLED_APPS order): sweep, demo and seed steps."""
    names = {entry.name for entry in entries}
    for entry in entries:
        unknown = [name for name in entry.after if name not in names]
        if unknown:
            raise RegistryError(f"{entry.name!r} runs after {unknown}, which nobody registered")
    placed: list = []
    done: set[str] = set()
    pending = list(entries)
    while pending:
        ready = next((e for e in pending if all(name in done for name in e.after)), None)
        if ready is None:
            raise RegistryError(f"circular `after` among {[e.name for e in pending]}")
        pending.remove(ready)
        placed.append(ready)
        done.add(ready.name)
    return placed


class Registry[T]:
    """Entries of one kind by key. `register` from `AppConfig.ready()`; everything else reads
    (and the first read freezes the registry)."""

    def __init__(
        self,
        kind: str,
        *,
        key: Callable[[T], Hashable],
        sort: Callable[[list[T]], list[T]] = list,
        check: Callable[[T], None] | None = None,
    ):
        self.kind = kind
        self._key = key
        self._sort = sort
        self._check = check
        self._entries: dict[Hashable, T] = {}
        self._ordered: tuple[T, ...] | None = None  # set when frozen

    # ---- filling ------------------------------------------------------------------------------

    def register(self, entry: T) -> T:
        """Add one entry; returns it (so a module can keep a name for what it registered)."""
        key = self._key(entry)
        existing = self._entries.get(key)
        if existing is not None:
            if existing == entry:
                return existing  # the same registration again: ready() ran twice
            raise RegistryError(f"{self.kind}: {key!r} is already registered ({existing!r})")
        if self._ordered is not None:
            raise RegistryError(
                f"{self.kind}: {key!r} registered after the registry was read; register from "
                "AppConfig.ready()"
            )
        if self._check is not None:
            self._check(entry)
        self._entries[key] = entry
        return entry

    def register_all(self, entries: Iterable[T]) -> None:
        for entry in entries:
            self.register(entry)

    # ---- reading ------------------------------------------------------------------------------

    def freeze(self) -> tuple[T, ...]:
        """Close the registry and return its entries in order (idempotent)."""
        if self._ordered is None:
            self._ordered = tuple(self._sort(list(self._entries.values())))
        return self._ordered

    @property
    def frozen(self) -> bool:
        return self._ordered is not None

    def all(self) -> tuple[T, ...]:
        """Every entry, in the registry's order."""
        return self.freeze()

    def get(self, key: Hashable) -> T | None:
        self.freeze()
        return self._entries.get(key)

    def __getitem__(self, key: Hashable) -> T:
        entry = self.get(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __contains__(self, key: Hashable) -> bool:
        self.freeze()
        return key in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(self.freeze())

    def __len__(self) -> int:
        return len(self.freeze())

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "open"
        return f"<Registry {self.kind}: {len(self._entries)} entries, {state}>"

    # ---- tests --------------------------------------------------------------------------------

    @contextmanager
    def scratch(self) -> Iterator["Registry"]:
        """An empty, open registry for the duration of a test; the real entries come back
        afterwards, as they were."""
        saved = self._entries, self._ordered
        self._entries, self._ordered = {}, None
        try:
            yield self
        finally:
            self._entries, self._ordered = saved


class Slot[T]:
    """A registry of exactly one entry: a hook that one app provides and core calls (who the
    signed-in user is, for the navigation). Providing it twice is an error."""

    def __init__(self, kind: str):
        self.kind = kind
        self._value: T | None = None

    def provide(self, value: T) -> T:
        if self._value is not None and self._value != value:
            raise RegistryError(f"{self.kind} is already provided ({self._value!r})")
        self._value = value
        return value

    def get(self) -> T:
        if self._value is None:
            raise RegistryError(f"nobody provides {self.kind}")
        return self._value

    @contextmanager
    def scratch(self) -> Iterator["Slot"]:
        saved, self._value = self._value, None
        try:
            yield self
        finally:
            self._value = saved
