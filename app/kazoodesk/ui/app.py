"""Start the Qt application on a qasync loop, connect, and shut everything down on quit.

Start order: the window, with the device list it showed last time for this server and account
(the offline cache), is painted first, before even the event loop exists (`run_gui`: Qt, the
window and the cache reader are all it imports by then, as a bare PySide6 window start would,
and it paints the same way, in `processEvents`). Only then come asyncio and qasync, the loop,
and the connection (the Kazoo client's imports on a worker thread, the demo server on
another, keyring when a secret is needed), the live list replacing the cached one when it
comes.

The application's name, icon and palette are set before the window is made
(`set_up_application`). In demo mode (not for `--smoke-test`) a start on a demo store that
another process already shows hands over to it and ends (kazoodesk.ui.single_instance).

`KAZOODESK_REPORT_STARTUP=1` prints, on stdout, a line when the device list is first painted
with rows in it (cached or live), and once the live list is loaded, the largest stall of the
UI thread since that first paint (bench/gui.py reads both).
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kazoodesk import __version__
from kazoodesk.config import APP_NAME, AppDirs
from kazoodesk.list_cache import ListCache
from kazoodesk.profiles import Profile, ProfileStore
from kazoodesk.resources import resource_path
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.single_instance import SingleInstance
from kazoodesk.ui.theme import follow_system

if TYPE_CHECKING:
    from kazoodesk.crash import CrashReporter
    from kazoodesk.ui.connection import DemoServer

SMOKE_TIMEOUT = 60.0  # seconds: a smoke test that is not done by then has failed
SMOKE_SIZE = (1280, 800)
SMOKE_STATUS_POLL_S = 0.25  # the smoke test asks /devices/status this often for a registration
IMPORT_POLL_S = 0.004  # Qt events are processed this often while asyncio is imported
GC_HOLD_S = 20.0  # the collector's pause during the start ends by then at the latest
REPORT_ENV = "KAZOODESK_REPORT_STARTUP"


@dataclass
class GuiOptions:
    server: str | None = None
    account: str = ""
    user: str = ""
    api_key: str | None = None
    # save a screenshot there once the list is loaded and shows a phone registered, then exit
    smoke_test: Path | None = None


def run_gui(
    options: GuiOptions,
    demo: DemoServer,
    profiles: ProfileStore,
    cache: ListCache | None = None,
    dirs: AppDirs | None = None,
    crash: CrashReporter | None = None,
) -> int:
    dirs = dirs or AppDirs.default()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    set_up_application(app)
    instance = demo_instance(options, dirs)
    if instance is not None and not instance.claim():
        return _hand_over(instance)
    if options.smoke_test is not None:
        _exit_if_stuck(SMOKE_TIMEOUT)
    remote = options.server is not None
    window = MainWindow(profiles, None if remote else demo, cache, dirs)
    if crash is not None:
        _report_crashes(window, crash, options)
    window.show_cached_list(
        window.profile_cache_keys(_profile(options)) if remote else window.demo_cache_keys()
    )
    report = StartupReport(window) if os.environ.get(REPORT_ENV) == "1" else None
    if options.smoke_test is not None:
        window.resize(*SMOKE_SIZE)  # before the first paint, not a second layout after it
    window.show()
    app.processEvents()  # the first paint, as a bare window's start has it
    if report is not None:
        report.first_paint_done()
    if instance is not None:  # after the first paint: QtNetwork's imports
        instance.listen()
        instance.activationRequested.connect(window.bring_to_front)
    _close_on_signals(window)
    # and only now the loop: asyncio and qasync are ~40 ms of imports, made on a thread while
    # this one keeps answering the window
    _import_responsively(app, ("asyncio", "qasync"))
    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(_main(options, window, demo, report, crash))
    finally:
        if instance is not None:
            instance.release()


def set_up_application(app: QApplication) -> None:
    """Name (settings, desktop entry), icon and palette of the app, before any window."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("KazooDesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)  # kazoodesk.desktop: Wayland and docks match the window
    app.setWindowIcon(QIcon(str(resource_path("icons", "app", "kazoodesk.svg"))))
    app.setQuitOnLastWindowClosed(False)  # the loop ends after our cleanup, not before
    follow_system(app)


def demo_instance(options: GuiOptions, dirs: AppDirs) -> SingleInstance | None:
    """Demo mode has one window per demo store; remote windows may be many, and a smoke test
    is a health check that runs (and screenshots) whatever else is running."""
    if options.server is not None or options.smoke_test is not None:
        return None
    return SingleInstance(dirs.demo)


def _hand_over(instance: SingleInstance) -> int:
    problem = instance.hand_over()
    if problem is None:
        print(f"kazoodesk: already running on {instance.store}; showed its window", flush=True)
        return 0
    print(
        f"kazoodesk: error: another KazooDesk holds {instance.store}, but {problem}",
        file=sys.stderr,
    )
    return 1


def _report_crashes(window: MainWindow, crash: CrashReporter, options: GuiOptions) -> None:
    """Crash reports told in a dialog over the window; a smoke test only fails on them (no
    dialog over its screenshot)."""
    from kazoodesk.ui.crash_dialog import CrashNotifier

    crash.about["Qt"] = qVersion()
    if options.smoke_test is not None:
        return
    notifier = CrashNotifier(window)
    for earlier in crash.reports:  # a hard crash of the last run, told once the window shows
        QTimer.singleShot(0, window, lambda path=earlier: notifier.earlier_crash(path))
    crash.notify = notifier


async def _main(
    options: GuiOptions,
    window: MainWindow,
    demo: DemoServer,
    report: StartupReport | None,
    crash: CrashReporter | None,
) -> int:
    import asyncio

    from kazoodesk.ui.tasks import cancel_all, spawn

    remote = options.server is not None
    window.continue_cached_list()
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if window.isHidden():  # closed before the loop ran
        closed.set()
    gc_hold = GcHold(window)
    status = 0
    try:
        if options.smoke_test is not None:
            earlier = len(crash.reports) if crash is not None else 0
            status = await smoke_test(window, options.smoke_test)
            if status == 0 and crash is not None and len(crash.reports) > earlier:
                status = _fail(f"an uncaught error, reported in {crash.reports[-1]}")
        else:
            spawn(_connect(window, options))
            await closed.wait()
    finally:
        gc_hold.release()
        await cancel_all()
        await window.wait_cache_saved()
        if window.session is not None:
            await window.session.close()
        if not remote:
            await asyncio.get_running_loop().run_in_executor(None, demo.stop)
        if report is not None:
            report.close()
    return status


def _import_responsively(app: QApplication, names: tuple[str, ...]) -> None:
    """Import `names` on a worker thread, processing this thread's Qt events meanwhile (there
    is no event loop yet). A failure is left to the import that follows to raise."""
    done = threading.Event()

    def run() -> None:
        try:
            for name in names:
                importlib.import_module(name)
        except Exception:  # the caller's own import reports it
            pass
        finally:
            done.set()

    threading.Thread(target=run, name="kazoodesk-imports", daemon=True).start()
    while not done.wait(IMPORT_POLL_S):
        app.processEvents()


def _profile(options: GuiOptions) -> Profile:
    return Profile(
        server=options.server or "",
        account_name=options.account,
        username=options.user,
        use_api_key=options.api_key is not None,
    )


async def _connect(window: MainWindow, options: GuiOptions) -> None:
    if options.server is None:
        await window.start_demo()
        return
    import asyncio

    from kazoodesk.profiles import load_secret

    profile = _profile(options)
    # keyring's imports and its backend's probe off the UI thread
    loop = asyncio.get_running_loop()
    secret = options.api_key or await loop.run_in_executor(None, load_secret, profile)
    if secret:
        await window.connect_remote(profile, secret)
    else:  # the password is asked for, never taken from the command line
        await window.connect_dialog(profile)


async def smoke_test(window: MainWindow, path: Path) -> int:
    """Demo mode until the device list is loaded and shows a demo phone registered;
    screenshot to `path`; 0, or 1 with a reason."""
    import asyncio

    window.resize(*SMOKE_SIZE)  # the same picture whatever size the window had last time
    loaded: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def listed(count: int) -> None:
        if not loaded.done():
            loaded.set_result(count)

    window.devicesLoaded.connect(listed)
    try:
        if not await window.start_demo():
            return _fail(f"the demo did not start: {window.connection_label.text()}")
        count = await asyncio.wait_for(loaded, SMOKE_TIMEOUT - 10)
    except TimeoutError:
        return _fail("the device list did not load in time")
    if count == 0:
        return _fail("the demo account shows no devices")
    try:
        registered = await asyncio.wait_for(_registered_shown(window), SMOKE_TIMEOUT - 10)
    except TimeoutError:
        return _fail("no demo phone shows as registered")
    editor = window.editor
    while editor is not None and not editor.form.is_built():  # the picture shows the editor
        await asyncio.sleep(0.02)
    if not window.grab().save(str(path)):
        return _fail(f"cannot write the screenshot to {path}")
    print(
        f"kazoodesk: smoke test passed: {count} devices shown, {registered} registered,"
        f" screenshot {path}",
        flush=True,
    )
    return 0


async def _registered_shown(window: MainWindow) -> int:
    """Ask the server for the registration status until the list shows a device registered
    (the demo phones register within a second or two of the simulator's start); that row is
    scrolled into view. The number of devices shown registered."""
    import asyncio

    from kazoodesk.ui.devices.device_records import Column
    from kazoodesk.ui.devices.device_types import STATUS_LABELS, Status

    model, shown = window.devices.model, STATUS_LABELS[Status.REGISTERED]
    while True:
        await window.refresh_status()
        rows = [
            row
            for row in range(model.rowCount())
            if model.index(row, Column.STATUS).data() == shown
        ]
        if rows:
            window.devices.table.scrollTo(model.index(rows[0], Column.STATUS))
            return len(rows)
        await asyncio.sleep(SMOKE_STATUS_POLL_S)


def _fail(reason: str) -> int:
    print(f"kazoodesk: smoke test failed: {reason}", file=sys.stderr, flush=True)
    return 1


class GcHold(QObject):
    """No automatic garbage collection from the first paint until the live list is loaded
    (or GC_HOLD_S): the start imports the simulator, the client and the editor, and a full
    collection among all that (~50 ms, on whichever thread triggers it) stalls the UI. Then
    what the start loaded, which lives as long as the process, is moved out of the
    collector's reach (gc.freeze), as the device list does with its pages."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._held = gc.isenabled()
        if not self._held:
            return
        gc.disable()
        window.devicesLoaded.connect(self.release)
        QTimer.singleShot(int(GC_HOLD_S * 1000), self, self.release)

    def release(self) -> None:
        if self._held:
            self._held = False
            # no collection first: the young generations hold all the start allocated, and
            # walking them would be the very stall this avoids (~30-40 ms); what garbage
            # cycles the start left are frozen with the rest
            gc.freeze()
            gc.enable()


class StartupReport(QObject):
    """With KAZOODESK_REPORT_STARTUP=1: when the list is first painted with rows, and the
    largest gap between ticks of a 10 ms timer from then until the live list is loaded."""

    TICK_MS = 10

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._viewport = window.devices.table.viewport()
        self._viewport.installEventFilter(self)
        self._ticks: list[float] = []
        self._kind = ""
        self._said = False
        self._ticker = QTimer(self)
        self._ticker.setTimerType(Qt.TimerType.PreciseTimer)
        self._ticker.setInterval(self.TICK_MS)
        self._ticker.timeout.connect(lambda: self._ticks.append(time.perf_counter()))
        window.devicesLoaded.connect(self._loaded)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        model = self._window.devices.model
        if event.type() == QEvent.Type.Paint and model.rowCount() > 0 and not self._ticks:
            self._kind = "cached" if self._window.showing_cached() else "live"
            self._viewport.removeEventFilter(self)
            self._ticks.append(time.perf_counter())
            self._ticker.start()
            # said after this paint, not before it
            QTimer.singleShot(0, self, self.first_paint_done)
        return False

    def first_paint_done(self) -> None:
        """Say when the list was first painted with rows (once; nothing if not yet)."""
        if self._ticks and not self._said:
            self._said = True
            self._ticks = [time.perf_counter()]  # stalls count from the end of that paint
            count = self._window.devices.model.rowCount()
            _say(f"first list painted: {count} {self._kind}")

    def _loaded(self, count: int) -> None:
        if not self._ticker.isActive():
            return
        self._ticker.stop()
        now = time.perf_counter()
        ticks = [*self._ticks, now]
        gaps = sorted(((b - a, a - ticks[0]) for a, b in zip(ticks, ticks[1:], strict=False)))
        worst = gaps[-1][0] if gaps else 0.0
        largest = ", ".join(f"{g * 1000:.0f} ms at {a * 1000:.0f}" for g, a in gaps[:-4:-1])
        _say(
            f"live list loaded: {count} devices {(now - ticks[0]) * 1000:.0f} ms after the first"
            f" list painted; largest UI stall {worst * 1000:.0f} ms ({largest})"
        )

    def close(self) -> None:
        self._ticker.stop()


def _say(text: str) -> None:
    print(f"kazoodesk: {text}", flush=True)


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl-C in the terminal (or SIGTERM) closes the window like its close button does."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: QTimer.singleShot(0, window.close))
    # Python runs signal handlers only between bytecodes: wake it while Qt waits for events
    heartbeat = QTimer(window)
    heartbeat.setInterval(250)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start()


def _exit_if_stuck(seconds: float) -> None:
    """A last resort for a smoke test whose event loop hangs: exit non-zero, say why."""

    def expire() -> None:
        print(f"kazoodesk: smoke test failed: not done after {seconds:.0f} s", file=sys.stderr)
        sys.stderr.flush()
        os._exit(2)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
