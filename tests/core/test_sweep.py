"""`hongfeng sweep`: every registered step in order, or only the ones named with --step, each
with its count; a second sweep at the same moment finds nothing left to do."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from hongfeng.core import registry
from hongfeng.core.registry import SweepStep

ACTIVITY_CLOCK = [
    "activities.started",
    "activities.finished",
    "activities.checked_out",
    "activities.pruned",
    "activities.rebroadcast",
]


def _sweep(*args) -> dict[str, int]:
    out = StringIO()
    call_command("sweep", *args, stdout=out)
    return {k: int(v) for k, v in (part.split("=") for part in out.getvalue().split())}


def test_the_registered_steps_are_the_activity_clock_in_order():
    assert [s.name for s in registry.sweep_steps][: len(ACTIVITY_CLOCK)] == ACTIVITY_CLOCK


def test_every_step_runs_and_a_second_sweep_finds_nothing_left(cast):
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        first = _sweep()
        assert list(first) == [s.name for s in registry.sweep_steps]
        assert first["activities.finished"] > 0  # the demo's upcoming activities are over
        assert set(_sweep().values()) == {0}


def test_only_the_named_steps_run_in_the_registrys_order():
    ran = []

    def step(name):
        def run(now):
            ran.append(name)
            return len(ran)

        return run

    first, second, third = step("test.first"), step("test.second"), step("test.third")
    with registry.sweep_steps.scratch() as steps:
        steps.register_all(
            [
                SweepStep("test.third", "第三步", third, after=("test.second",)),
                SweepStep("test.first", "第一步", first),
                SweepStep("test.second", "第二步", second, after=("test.first",)),
            ]
        )
        assert _sweep() == {"test.first": 1, "test.second": 2, "test.third": 3}
        ran.clear()
        assert _sweep("--step", "test.third", "--step", "test.first") == {
            "test.first": 1,
            "test.third": 2,
        }
        with pytest.raises(CommandError, match=r"没有这一步：test\.fourth"):
            call_command("sweep", "--step", "test.fourth", stdout=StringIO())
