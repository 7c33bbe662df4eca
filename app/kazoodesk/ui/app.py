"""Start the Qt application on a qasync loop, connect, and shut everything down on quit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kazoodesk.profiles import Profile, ProfileStore, load_secret
from kazoodesk.ui.connection import DemoServer
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.tasks import cancel_all, spawn

SMOKE_TIMEOUT = 60.0  # seconds: a smoke test that is not done by then has failed


@dataclass
class GuiOptions:
    server: str | None = None
    account: str = ""
    user: str = ""
    api_key: str | None = None
    smoke_test: Path | None = None  # save a screenshot there once the list is loaded, then exit


def run_gui(options: GuiOptions, demo: DemoServer, profiles: ProfileStore) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("KazooDesk")
    app.setOrganizationName("KazooDesk")
    app.setQuitOnLastWindowClosed(False)  # the loop ends after our cleanup, not before
    if options.smoke_test is not None:
        _exit_if_stuck(SMOKE_TIMEOUT)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(_main(options, demo, profiles))


async def _main(options: GuiOptions, demo: DemoServer, profiles: ProfileStore) -> int:
    remote = options.server is not None
    window = MainWindow(profiles, None if remote else demo)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    _close_on_signals(window)
    status = 0
    try:
        if options.smoke_test is not None:
            status = await smoke_test(window, options.smoke_test)
        else:
            spawn(_connect(window, options))
            await closed.wait()
    finally:
        await cancel_all()
        if window.session is not None:
            await window.session.close()
        if not remote:
            await asyncio.get_running_loop().run_in_executor(None, demo.stop)
    return status


async def _connect(window: MainWindow, options: GuiOptions) -> None:
    if options.server is None:
        await window.start_demo()
        return
    profile = Profile(
        server=options.server,
        account_name=options.account,
        username=options.user,
        use_api_key=options.api_key is not None,
    )
    secret = options.api_key or load_secret(profile)
    if secret:
        await window.connect_remote(profile, secret)
    else:  # the password is asked for, never taken from the command line
        await window.connect_dialog(profile)


async def smoke_test(window: MainWindow, path: Path) -> int:
    """Demo mode until the device list is loaded; screenshot to `path`; 0, or 1 with a reason."""
    window.resize(1280, 800)  # the same picture whatever size the window had last time
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
    if not window.grab().save(str(path)):
        return _fail(f"cannot write the screenshot to {path}")
    print(f"kazoodesk: smoke test passed: {count} devices shown, screenshot {path}", flush=True)
    return 0


def _fail(reason: str) -> int:
    print(f"kazoodesk: smoke test failed: {reason}", file=sys.stderr, flush=True)
    return 1


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
