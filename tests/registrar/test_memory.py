"""Handing freed memory back after the location table changed a lot (glibc's malloc_trim)."""

from __future__ import annotations

import sys

import pytest

from kazoodesk.simulator.registrar.memory import MemoryTrimmer


def test_trims_after_a_large_change_at_most_once_per_interval() -> None:
    calls: list[int] = []
    trimmer = MemoryTrimmer(min_change=100, interval_s=5, trim=lambda: calls.append(1))
    assert not trimmer.check(50, now=0.0)  # too small a change
    assert trimmer.check(150, now=1.0)
    assert not trimmer.check(400, now=3.0)  # too soon
    assert trimmer.check(400, now=6.5)
    assert not trimmer.check(450, now=20.0)  # grown by less than 100 since
    assert trimmer.check(0, now=21.5)  # a shrink counts too
    assert len(calls) == trimmer.trims == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_real_trim_runs_on_linux() -> None:
    trimmer = MemoryTrimmer(min_change=1, interval_s=0)
    if not trimmer.available:
        pytest.skip("no malloc_trim in this C library")
    assert trimmer.check(10, now=0.0)
