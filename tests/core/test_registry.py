"""The registries the apps fill from AppConfig.ready() (hongfeng.core.registry): a duplicate key
is refused, a registration after the first read is refused, entries come back in their order,
and what the apps registered is what the project runs on."""

from dataclasses import dataclass

import pytest

from hongfeng.core import registry
from hongfeng.core.registry import Registry, RegistryError, Slot
from hongfeng.core.registry.base import by_dependencies, by_order


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int = 0
    after: tuple[str, ...] = ()


def _registry(sort=list) -> Registry:
    return Registry("test entries", key=lambda e: e.name, sort=sort)


def test_a_duplicate_key_is_refused_and_the_same_entry_again_changes_nothing():
    entries = _registry()
    first = entries.register(_Entry("a", 1))
    assert entries.register(_Entry("a", 1)) is first  # ready() run twice
    with pytest.raises(RegistryError, match="'a' is already registered"):
        entries.register(_Entry("a", 2))
    assert entries.all() == (first,)


def test_the_first_read_freezes_the_registry():
    entries = _registry()
    entries.register(_Entry("a"))
    assert not entries.frozen
    assert "a" in entries
    assert entries.frozen
    with pytest.raises(RegistryError, match="after the registry was read"):
        entries.register(_Entry("b"))
    assert [e.name for e in entries] == ["a"]


def test_entries_by_order_keep_registration_order_between_equals():
    entries = _registry(by_order)
    entries.register_all([_Entry("c", 30), _Entry("a", 10), _Entry("b", 10)])
    assert [e.name for e in entries.all()] == ["a", "b", "c"]


def test_steps_run_after_what_they_name_and_otherwise_in_registration_order():
    entries = _registry(by_dependencies)
    entries.register_all(
        [_Entry("points", after=("honours",)), _Entry("members"), _Entry("honours")]
    )
    assert [e.name for e in entries.all()] == ["members", "honours", "points"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([_Entry("a", after=("missing",))], "which nobody registered"),
        ([_Entry("a", after=("b",)), _Entry("b", after=("a",))], "circular"),
    ],
)
def test_unknown_or_circular_dependencies_are_refused(steps, message):
    entries = _registry(by_dependencies)
    entries.register_all(steps)
    with pytest.raises(RegistryError, match=message):
        entries.all()


def test_scratch_gives_an_empty_open_registry_and_restores_the_real_one():
    real = registry.capabilities.all()
    with registry.capabilities.scratch() as empty:
        assert not empty.frozen and len(empty._entries) == 0
        empty.register(registry.Capability("test.do", "测试", {}))
        assert [c.name for c in empty] == ["test.do"]
    assert registry.capabilities.all() == real


def test_a_slot_is_provided_once():
    slot: Slot = Slot("a hook")
    with pytest.raises(RegistryError, match="nobody provides"):
        slot.get()
    slot.provide(print)
    slot.provide(print)  # the same again: ready() run twice
    with pytest.raises(RegistryError, match="already provided"):
        slot.provide(len)
    assert slot.get() is print
