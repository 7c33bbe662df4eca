"""What the benchmarks share: seeding a store, stopping the servers they started."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any


def seed_customer(
    data_dir: Path,
    name: str,
    realm: str,
    admin_password: str,
    devices: Iterable[tuple[str, str, str]],
) -> None:
    """A fresh store with the master account and customer `name` (admin user `admin`) holding
    one device per (device name, SIP username, SIP password)."""
    from kazoodesk.simulator import demo
    from kazoodesk.simulator.service import Simulator

    data = demo.bootstrap_data()
    master = data["accounts"][0]
    admin = {
        "id": uuid.uuid4().hex,
        "first_name": "Bench",
        "last_name": "Admin",
        "username": "admin",
        "password": admin_password,
        "priv_level": "admin",
    }
    data["accounts"].append(
        {
            "id": uuid.uuid4().hex,
            "name": name,
            "realm": realm,
            "parent_id": master["id"],
            "users": [admin],
            "devices": [
                {"id": uuid.uuid4().hex, "name": device, "sip": {"username": u, "password": p}}
                for device, u, p in devices
            ],
        }
    )
    sim = Simulator.open(data_dir)
    try:
        demo.seed(sim.store, sim.schemas, data)
    finally:
        sim.close()


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process we started, and kill it if it has not exited after 10 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class GcWatch:
    """Pauses of the garbage collector's full (generation 2) collections: (start, ms)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((self._start, (time.perf_counter() - self._start) * 1000))

    def report(self) -> str:
        if not self.pauses:
            return "no full collections"
        longest = max(ms for _, ms in self.pauses)
        return f"{len(self.pauses)} full collections, longest {longest:.1f} ms"

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def run_in_qt(name: str, coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run `coro` on a qasync loop of a new QApplication (settings filed under `name`)."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setOrganizationName("kazoodesk-bench")
    app.setApplicationName(name)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result: dict[str, Any] = loop.run_until_complete(coro)
    return result
