"""GUI benchmark (issue #3 §7): the main window against a simulator holding 100,000 devices.

The simulator runs as `kazoodesk serve` in its own process, so its CPU is not the GUI's. Each
GUI run is a fresh process (offscreen) that logs in and then measures, in milliseconds:

1. first page: from the end of login to the first rows in the device model (and painted);
2. the whole load: the largest and the p99 gap between ticks of a 10 ms QTimer from the end
   of login until `devicesLoaded`, and the total load time;
3. search keystrokes typed into the list's search box ("a" … "alic", then deleted again), from
   the key press to the model updated (and to the table repainted);
4. opening devices in the editor, from `open_device` to the form painted (the first open, which
   may build the form, separately);
5. the GUI process's RSS after the full load (VmRSS of /proc/self/status), and after loading
   everything a second time (a leak of the first load's devices would show there).

Then 6. cold start: `kazoodesk --smoke-test` (demo mode, fresh process) against a bare PySide6
window start (QApplication, a QMainWindow with a QTableView, shown, events processed — its
first paint —, then grabbed and saved as PNG like the smoke test's screenshot), alternating,
several runs each. The app runs with KAZOODESK_REPORT_STARTUP=1 and is timed to two lines:
"first list painted" (the device list on screen with rows: the cached list of the previous
run) and "smoke test passed" (the live list loaded, the screenshot saved); it also reports the
largest stall of its UI thread in between. A third series starts with the cache removed (a
first start: the first list painted is the live one).

Then 7./8. live registrations under load (bench/gui_events.py): a fresh server with 2,000 SIP
devices and a fresh GUI process showing the registration panel, sipp registering at 1,000/s (as
many registration events/s reach the GUI): the UI thread's largest stall against an idle period
of the same length, the batch flush times, the events received against the REGISTERs sent, and
the delay from a marker phone's REGISTER to the table showing it.

    python bench/gui.py [--devices 100000] [--runs 3] [--cold-runs 5] [--only events] ...

`--only load|cold|events` (repeatable) runs those sections alone; all three by default.

Nothing here asserts: it prints a table and one verdict line per target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(BENCH))

from support import GcWatch, run_in_qt, stop_process  # noqa: E402

ACCOUNT = "Bench Co"
ADMIN_PASSWORD = "bench-password-1"
TICK_MS = 10
SECTIONS = ("load", "cold", "events")
SEARCH_KEYS = ["a", "l", "i", "c", "\b", "\b", "\b", "\b"]  # "\b": Backspace
EDITOR_OPENS = 9  # the first, then 8 more
IDLE_BEFORE_TYPING_S = 1.0  # a user does not type within a second of the list filling

TARGETS = {
    "first_page_ms": 300.0,
    "max_gap_ms": 50.0,
    "keystroke_ms": 50.0,
    "editor_ms": 150.0,
    "rss_mb": 400.0,
    "cold_ratio": 2.0,
}

FIRST = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Hiro", "Ines", "Jamal"]
LAST = ["Chen", "Martinez", "Okafor", "Kim", "Larsen", "Novak", "Silva", "Tanaka", "Weber"]
PLACES = ["Desk", "Reception", "Warehouse", "Lab", "Office", "Lobby", "Kitchen", "Dock"]
MODELS = ["Yealink T54W", "Polycom VVX 450", "Snom D785", "Grandstream GXP2170"]
TYPES = ["sip_device"] * 6 + ["softphone"] * 3 + ["smartphone"]

BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QTableView(window))
window.resize(1280, 760)
window.show()
app.processEvents()  # the first paint happens in here
print("bare window painted", flush=True)
assert window.grab().save(sys.argv[1])  # as the smoke test saves its screenshot
print("bare window shown", flush=True)
"""


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


# ---- the store -------------------------------------------------------------------------------


def seed(data_dir: Path, count: int, seed_value: int = 7) -> None:
    """The master account and `Bench Co` (admin `admin`) with `count` devices of mixed types,
    80% owned by one of count/100 users, the SIP phones with unique MACs."""
    from kazoodesk.simulator import demo
    from kazoodesk.simulator.service import Simulator

    rnd = random.Random(seed_value)
    users = [
        {
            "id": uuid.UUID(int=rnd.getrandbits(128)).hex,
            "first_name": rnd.choice(FIRST),
            "last_name": rnd.choice(LAST),
            "username": f"user{n}",
            "password": f"user-password-{n}",
        }
        for n in range(max(1, count // 100))
    ]
    devices = []
    for n in range(count):
        device_type = rnd.choice(TYPES)
        owner = rnd.choice(users) if rnd.random() < 0.8 else None
        name = f"{rnd.choice(PLACES)} {n}"
        if owner:
            name = f"{owner['first_name']}'s {name}"
        device: dict[str, Any] = {
            "id": uuid.UUID(int=rnd.getrandbits(128)).hex,
            "name": name,
            "device_type": device_type,
            "enabled": rnd.random() > 0.03,
            "sip": {"username": f"bench{n:06d}", "password": f"secret{n:06d}x"},
        }
        if device_type == "sip_device":
            device["name"] += f" – {rnd.choice(MODELS)}"
            device["mac_address"] = f"{n:012x}"
        if owner:
            device["owner_id"] = owner["id"]
        devices.append(device)
    data = demo.bootstrap_data()
    master = data["accounts"][0]
    admin = {
        "id": uuid.UUID(int=rnd.getrandbits(128)).hex,
        "first_name": "Bench",
        "last_name": "Admin",
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "priv_level": "admin",
    }
    data["accounts"].append(
        {
            "id": uuid.UUID(int=rnd.getrandbits(128)).hex,
            "name": ACCOUNT,
            "realm": "bench.kazoodesk.test",
            "parent_id": master["id"],
            "users": [admin, *users],
            "devices": devices,
        }
    )
    sim = Simulator.open(data_dir)
    try:
        demo.seed(sim.store, sim.schemas, data)
    finally:
        sim.close()


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    args = [sys.executable, "-m", "kazoodesk", "serve", "--data", str(data_dir)]
    proc = subprocess.Popen(
        [*args, "--port", "0", "--no-phones"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("KAZOODESK READY "):
        stop_process(proc)
        raise SystemExit(f"the simulator did not start: {line!r}")
    return proc, json.loads(line.removeprefix("KAZOODESK READY "))


# ---- one GUI run (a child process) -----------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def gui_run(ready: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """Start the app's window in this process, log in, measure; the figures as a dict."""
    return run_in_qt("kazoodesk-bench", _measure(ready, work_dir))


async def _measure(ready: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtTest import QTest

    from kazoodesk.kazoo import KazooClient
    from kazoodesk.profiles import ProfileStore
    from kazoodesk.ui.main_window import MainWindow
    from kazoodesk.ui.session import Session
    from kazoodesk.ui.tasks import cancel_all, spawn

    now = time.perf_counter
    window = MainWindow(ProfileStore(work_dir))
    window.resize(1280, 760)
    window.show()
    await asyncio.sleep(0.3)  # shown and painted, idle
    model, table = window.devices.model, window.devices.table

    client = KazooClient(ready["api"])
    await client.login(
        account_name=ready["account_name"], username=ready["username"], password=ready["password"]
    )
    session = Session(client, label="bench")

    marks: dict[str, float] = {}
    ticks: list[float] = []
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)

    def tick() -> None:
        ticks.append(now())
        if "editor" not in marks and window.editor is not None:
            marks["editor"] = ticks[-1]  # the gap before this tick holds the editor's build

    ticker.timeout.connect(tick)

    def rows_changed() -> None:
        if "first_rows" not in marks and model.rowCount() > 0:
            marks["first_rows"] = now()

    model.layoutChanged.connect(rows_changed)
    model.rowsInserted.connect(rows_changed)
    model.modelReset.connect(rows_changed)

    class PaintWatch(QObject):
        """When the table starts painting with rows in it."""

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_rows" in marks:
                marks.setdefault("first_paint", now())
            return False

    paint_watch = PaintWatch()
    table.viewport().installEventFilter(paint_watch)
    loaded: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def listed(count: int) -> None:
        if not loaded.done():
            loaded.set_result(count)

    window.devicesLoaded.connect(listed)
    gc_watch = GcWatch()

    start = now()
    ticks.append(start)
    ticker.start()
    spawn(window.attach(session))
    count = await loaded
    done = now()
    ticker.stop()
    ticks.append(done)
    table.viewport().removeEventFilter(paint_watch)
    gaps = [(b - a) * 1000 for a, b in zip(ticks, ticks[1:], strict=False)]
    worst = max(range(len(gaps)), key=gaps.__getitem__)
    # the gap that ends with the first tick seeing the editor: the window built it in there
    editor_gap = next((i for i, t in enumerate(ticks[1:]) if t == marks.get("editor")), None)
    other_gaps = [g for i, g in enumerate(gaps) if i != editor_gap]
    gc_pauses = [ms for at, ms in gc_watch.pauses if start <= at <= done]
    gc_watch.close()

    await asyncio.sleep(IDLE_BEFORE_TYPING_S)
    rss_loaded = rss_mb()

    # what the window's periodic status refresh (every 15 s) does with the answer: half the
    # devices registered, then none again
    rows = model.rowCount()
    half = set(model.ids_at(range(0, rows, 2)))
    status_ms = []
    for registered in (half, set()):
        began = now()
        model.set_registered(registered)
        status_ms.append((now() - began) * 1000)

    # search: keystrokes into the box; the model is updated inside the key press
    search = window.devices.search
    search.setFocus()
    updated: list[float] = []
    model.layoutChanged.connect(lambda: updated.append(now()))
    keystrokes = []
    for key in SEARCH_KEYS:
        updated.clear()
        began = now()
        if key == "\b":
            QTest.keyClick(search, Qt.Key.Key_Backspace)
        else:
            QTest.keyClicks(search, key)
        returned = now()
        table.viewport().repaint()
        painted = now()
        model_ms = ((updated[-1] if updated else returned) - began) * 1000
        keystrokes.append(
            {
                "text": search.text(),
                "model_ms": model_ms,
                "painted_ms": (painted - began) * 1000,
                "shown": model.rowCount(),
            }
        )
        await asyncio.sleep(0.15)  # typing pace: the loop runs between keys

    # the editor: devices spread over the list
    editor = window.editor
    assert editor is not None
    ids = model.ids_at(range(0, rows, max(1, rows // EDITOR_OPENS)))[:EDITOR_OPENS]
    opens = []
    for device_id in ids:
        began = now()
        shown = await editor.open_device(device_id)
        loaded_at = now()
        editor.repaint()
        painted = now()
        assert shown and editor.device_id == device_id
        opens.append({"loaded_ms": (loaded_at - began) * 1000, "ms": (painted - began) * 1000})
        await asyncio.sleep(0.1)

    # a second full load: the devices of the first must go (they are kept out of full GC
    # passes, so a leak would show here)
    loaded = asyncio.get_running_loop().create_future()
    spawn(window.reload())
    await loaded
    await asyncio.sleep(IDLE_BEFORE_TYPING_S)
    rss_reloaded = rss_mb()

    result = {
        "devices": count,
        "first_rows_ms": (marks["first_rows"] - start) * 1000,
        "first_paint_ms": (marks.get("first_paint", done) - start) * 1000,
        "load_s": done - start,
        "max_gap_ms": gaps[worst],
        "max_gap_at_s": ticks[worst] - start,
        "p99_gap_ms": percentile(gaps, 0.99),
        "largest_gaps": sorted(
            ((ticks[i] - start, g) for i, g in enumerate(gaps)), key=lambda x: -x[1]
        )[:5],
        "editor_gap_ms": gaps[editor_gap] if editor_gap is not None else 0.0,
        "max_other_gap_ms": max(other_gaps, default=0.0),
        "gaps_over_50": sum(1 for g in gaps if g > 50),
        "gc_full": len(gc_pauses),
        "gc_longest_ms": max(gc_pauses, default=0.0),
        "status_ms": status_ms,
        "rss_loaded_mb": rss_loaded,
        "rss_end_mb": rss_reloaded,
        "rss_peak_mb": rss_mb("VmHWM"),
        "keystrokes": keystrokes,
        "opens": opens,
    }
    window.close()
    await cancel_all()
    await session.close()
    return result


# ---- cold start -----------------------------------------------------------------------------


def time_to_lines(
    args: list[str], markers: dict[str, str], env: dict[str, str]
) -> tuple[dict[str, float], list[str]]:
    """Seconds from starting `args` to the first stdout line containing each marker (by name,
    and "exit" to its exit), and the stdout lines."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    seen: dict[str, float] = {}
    lines = []
    for line in proc.stdout:
        at = time.perf_counter() - began
        lines.append(line.rstrip("\n"))
        for name, marker in markers.items():
            if marker in line and name not in seen:
                seen[name] = at
    proc.wait()
    seen["exit"] = time.perf_counter() - began
    if len(seen) <= len(markers) or proc.returncode != 0:
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(
            f"{args[:3]} failed ({proc.returncode}), saw {sorted(seen)}: {err.strip()[-500:]}"
        )
    if proc.stderr:
        proc.stderr.close()
    return seen, lines


APP_MARKERS = {"first": "first list painted", "live": "smoke test passed"}
BARE_MARKERS = {"painted": "bare window painted", "shown": "bare window shown"}


def cold_start(runs: int, work_dir: Path, env: dict[str, str]) -> dict[str, list[float]]:
    demo_dir = work_dir / "demo"
    shot = work_dir / "smoke.png"
    cache_dir = work_dir / "cache"  # XDG_CACHE_HOME: the app's offline lists are in there
    env = {**env, "XDG_CACHE_HOME": str(cache_dir), "KAZOODESK_REPORT_STARTUP": "1"}
    if os.environ.get("BENCH_NO_PYC") != "1":
        # compiled modules cached (in the bench's dir: the tree stays clean), as an installed
        # app has them; PYTHONDONTWRITEBYTECODE=1 would compile the app's own at every start
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work_dir / "pycache")
    app = [sys.executable, "-m", "kazoodesk", "--smoke-test", str(shot), "--data", str(demo_dir)]
    bare = [sys.executable, "-c", BARE_WINDOW, str(work_dir / "bare.png")]
    # warm-up (also seeds the demo store once, fills the OS file cache for both, and leaves
    # the app's cached list for the next start)
    time_to_lines(app, APP_MARKERS, env)
    time_to_lines(bare, BARE_MARKERS, env)
    times: dict[str, list[float]] = {}

    def add(prefix: str, seen: dict[str, float]) -> None:
        for name, at in seen.items():
            times.setdefault(f"{prefix}_{name}", []).append(at)

    for _ in range(runs):
        seen, _ = time_to_lines(bare, BARE_MARKERS, env)
        add("bare", seen)
        seen, lines = time_to_lines(app, APP_MARKERS, env)
        if not any("first list painted" in line and "cached" in line for line in lines):
            raise SystemExit(f"the app did not paint its cached list first: {lines}")
        add("app", seen)
        times.setdefault("stall_ms", []).append(_stall_ms(lines))
        shutil.rmtree(cache_dir / "kazoodesk", ignore_errors=True)  # a first start
        seen, lines = time_to_lines(app, APP_MARKERS, env)
        add("nocache", seen)
        times.setdefault("nocache_stall_ms", []).append(_stall_ms(lines))
    return times


def _stall_ms(lines: list[str]) -> float:
    """The app's "largest UI stall N ms" (from its first paint to the live list loaded)."""
    for line in lines:
        if "largest UI stall" in line:
            return float(line.split("largest UI stall ")[1].split(" ms")[0])
    return float("nan")


# ---- report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def spread(values: list[float]) -> str:
    """Seconds, shown in ms."""
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):6.0f}   min {min(ms):6.0f}   max {max(ms):6.0f} ms"


def report_gui(results: list[dict[str, Any]]) -> list[str]:
    def col(key: str) -> list[float]:
        return [float(r[key]) for r in results]

    print(f"\nGUI runs (each a fresh process), {len(results)} runs; figures per run:")
    print(
        "  (ms from the end of login; gaps between ticks of a 10 ms timer until devicesLoaded;"
        " 'editor' is the gap\n   in which the window built the device editor, 'other' the"
        " largest of the rest; gc2 = full collections)"
    )
    header = (
        f"{'run':>3} {'first rows':>10} {'painted':>8} {'load s':>7} {'max gap':>8}"
        f" {'at s':>6} {'editor':>7} {'other':>6} {'p99 gap':>8} {'>50ms':>6} {'gc2':>4}"
        f" {'gc2 max':>8} {'RSS MB':>7}"
    )
    print(header)
    for n, r in enumerate(results, 1):
        print(
            f"{n:>3} {r['first_rows_ms']:>10.1f} {r['first_paint_ms']:>8.1f} {r['load_s']:>7.2f}"
            f" {r['max_gap_ms']:>8.1f} {r['max_gap_at_s']:>6.2f} {r['editor_gap_ms']:>7.1f}"
            f" {r['max_other_gap_ms']:>6.1f} {r['p99_gap_ms']:>8.1f} {r['gaps_over_50']:>6}"
            f" {r['gc_full']:>4} {r['gc_longest_ms']:>8.1f} {r['rss_loaded_mb']:>7.0f}"
        )
    for n, r in enumerate(results, 1):
        cells = ", ".join(f"{ms:.0f} ms at {at:.2f} s" for at, ms in r["largest_gaps"])
        print(f"  run {n} largest gaps: {cells}")
    cells = ", ".join(f"{ms:.0f}" for r in results for ms in r["status_ms"])
    print(f"  status refresh (model.set_registered over every device, not a target): {cells} ms")
    print("\nsearch keystrokes, ms from key press to model updated (to table repainted):")
    typed = [k for r in results for k in r["keystrokes"]]
    for n, r in enumerate(results, 1):
        cells = "  ".join(
            f"{k['text'] or '∅'!r}:{k['model_ms']:.1f}({k['painted_ms']:.1f})"
            for k in r["keystrokes"]
        )
        print(f"  run {n}: {cells}")
    shown = {k["text"]: k["shown"] for k in results[0]["keystrokes"]}
    print("  rows shown: " + ", ".join(f"{t or '∅'!r} {s:,}" for t, s in shown.items()))
    print("\neditor opens, ms from open_device to the form painted (server round trip included):")
    for n, r in enumerate(results, 1):
        first, rest = r["opens"][0], [o["ms"] for o in r["opens"][1:]]
        print(
            f"  run {n}: first {first['ms']:6.1f}   then median {statistics.median(rest):6.1f}"
            f"   max {max(rest):6.1f}   ({len(rest)} devices)"
        )
    print(
        "\nRSS MB: after load "
        + ", ".join(f"{v:.0f}" for v in col("rss_loaded_mb"))
        + "; after a second full load "
        + ", ".join(f"{v:.0f}" for v in col("rss_end_mb"))
        + "; peak (VmHWM) "
        + ", ".join(f"{v:.0f}" for v in col("rss_peak_mb"))
    )

    first = statistics.median(col("first_rows_ms"))
    max_gap = max(col("max_gap_ms"))
    editor_gap = max(col("editor_gap_ms"))
    other_gap = max(col("max_other_gap_ms"))
    p99 = statistics.median(col("p99_gap_ms"))
    key_max = max(k["model_ms"] for k in typed)
    key_paint_max = max(k["painted_ms"] for k in typed)
    later = [o["ms"] for r in results for o in r["opens"][1:]]
    first_opens = [r["opens"][0]["ms"] for r in results]
    rss = max(col("rss_loaded_mb"))
    t = TARGETS
    return [
        f"1. first page after login <= {t['first_page_ms']:.0f} ms: median {first:.1f} ms"
        f" (painted {statistics.median(col('first_paint_ms')):.1f} ms) -> "
        + verdict(first <= t["first_page_ms"]),
        f"2. UI never stalls > {t['max_gap_ms']:.0f} ms while loading: max gap {max_gap:.1f} ms"
        f" (editor build {editor_gap:.1f} ms, all else <= {other_gap:.1f} ms), p99 {p99:.1f} ms,"
        f" load {statistics.median(col('load_s')):.2f} s -> " + verdict(max_gap <= t["max_gap_ms"]),
        f"3. search keystroke <= {t['keystroke_ms']:.0f} ms: max {key_max:.1f} ms"
        f" (with repaint {key_paint_max:.1f} ms) -> " + verdict(key_max <= t["keystroke_ms"]),
        f"4. editor open <= {t['editor_ms']:.0f} ms: median {statistics.median(later):.1f} ms,"
        f" max {max(later):.1f} ms; first open {statistics.median(first_opens):.1f} ms -> "
        + verdict(max(later) <= t["editor_ms"] and max(first_opens) <= t["editor_ms"]),
        f"5. RSS after full load <= {t['rss_mb']:.0f} MB: {rss:.0f} MB -> "
        + verdict(rss <= t["rss_mb"]),
    ]


def report_cold(times: dict[str, list[float]]) -> list[str]:
    def med(key: str) -> float:
        return statistics.median(times[key])

    print(f"\ncold start ({len(times['app_live'])} runs each, alternating):")
    print(f"  bare PySide6 window to first paint:               {spread(times['bare_painted'])}")
    print(f"  bare PySide6 window to shown (grabbed, saved):    {spread(times['bare_shown'])}")
    print(f"  bare PySide6 window to exit:                      {spread(times['bare_exit'])}")
    print(f"  kazoodesk to first list painted (cached list):    {spread(times['app_first'])}")
    print(f"  kazoodesk to live list ('smoke test passed'):     {spread(times['app_live'])}")
    print(f"  kazoodesk to exit:                                {spread(times['app_exit'])}")
    print(f"  kazoodesk, no cache, to first list (live):        {spread(times['nocache_first'])}")
    print(f"  kazoodesk, no cache, to 'smoke test passed':      {spread(times['nocache_live'])}")
    for key, what in (("stall_ms", "with the cache"), ("nocache_stall_ms", "without")):
        stalls = times[key]
        cells = ", ".join(f"{ms:.0f}" for ms in stalls)
        print(
            f"  largest UI stall, first paint to live list loaded, {what}: {cells} ms"
            f" (median {statistics.median(stalls):.0f})"
        )
    first = med("app_first") / med("bare_painted")
    first_shown = med("app_first") / med("bare_shown")
    live = med("app_live") / med("bare_shown")
    cold = med("nocache_live") / med("bare_shown")
    t = TARGETS["cold_ratio"]
    return [
        f"6. cold start to the live list <= {t:.0f}x a bare window (shown, grabbed):"
        f" {live:.2f}x ({cold:.2f}x with no cache) -> " + verdict(live <= t),
        f"6'. cold start to the first list painted (the cached one) <= {t:.0f}x a bare window"
        f" (to its first paint): {first:.2f}x ({first_shown:.2f}x the bare window shown and"
        " grabbed) -> " + verdict(first <= t),
    ]


# ---- main ----------------------------------------------------------------------------------------


def child_main(ready_json: str, work_dir: str) -> None:
    result = gui_run(json.loads(ready_json), Path(work_dir))
    print("RESULT " + json.dumps(result), flush=True)


def run_children(
    ready: dict[str, Any], runs: int, work_dir: Path, env: dict[str, str]
) -> Iterator[dict[str, Any]]:
    for n in range(runs):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(ready), str(work_dir)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"GUI run {n + 1} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        yield json.loads(lines[-1].removeprefix("RESULT "))


def gui_runs(args: argparse.Namespace, work: Path, env: dict[str, str]) -> list[str]:
    print(f"GUI benchmark: {args.devices:,} devices; {load_average()}")
    began = time.perf_counter()
    seed(work / "store", args.devices)
    print(f"seeded {args.devices:,} devices in {time.perf_counter() - began:.1f} s")
    server, ready = start_server(work / "store")
    try:
        results = list(run_children(ready, args.runs, work / "profiles", env))
    finally:
        stop_process(server)
    return report_gui(results)


def main() -> None:
    import gui_events  # here: not in the load section's GUI processes (it imports aiohttp)

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="GUI runs (fresh processes)")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts of each kind")
    parser.add_argument("--skip-cold", action="store_true", help="no cold start comparison")
    parser.add_argument("--cold-only", action="store_true", help="the cold start comparison only")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run this section alone (repeatable): load (1.-5.), cold (6.), events (7.-8.)",
    )
    parser.add_argument("--child", nargs=2, metavar=("READY", "DIR"), help=argparse.SUPPRESS)
    gui_events.add_arguments(parser)
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return
    sections = set(args.only or SECTIONS)
    if args.cold_only:
        sections = {"cold"}
    if args.skip_cold:
        sections.discard("cold")

    with tempfile.TemporaryDirectory(prefix="kazoodesk-bench-gui-") as tmp:
        work = Path(tmp)
        # settings, profiles and the demo store of the runs stay in here
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(work / "config"),
            "XDG_DATA_HOME": str(work / "data"),
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update(env)
        verdicts = gui_runs(args, work, env) if "load" in sections else []
        if "cold" in sections:
            print(f"\n{load_average()}")
            verdicts.extend(report_cold(cold_start(args.cold_runs, work, env)))
        if "events" in sections:
            verdicts.extend(gui_events.events_section(args, work, env))
        print(f"\n{load_average()}\ntargets:")
        for line in verdicts:
            print("  " + line)


if __name__ == "__main__":
    main()
