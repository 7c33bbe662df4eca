"""DeviceDirectory.warm: the cache filled at start gives the answers a cold lookup gives."""

from __future__ import annotations

from pathlib import Path

from kazoodesk.simulator import demo
from kazoodesk.simulator.service import Simulator
from kazoodesk.simulator.sip import DeviceDirectory


def test_warm_cache_answers_as_cold_lookups(tmp_path: Path) -> None:
    sim = Simulator.open(tmp_path)
    try:
        demo.seed(sim.store, sim.schemas, demo.load_demo_data())
        warm = DeviceDirectory(sim)
        filled = warm.warm()
        assert filled > 0
        keys = list(warm._users)
        assert len(keys) == filled
        cold = DeviceDirectory(sim)
        for realm, username in keys:
            assert warm._users[realm, username] == cold.lookup(realm, username)
        # a commit drops the warm answers, as any cached answer
        warm._forget([("a", "b")])
        assert not warm._users
    finally:
        sim.close()
