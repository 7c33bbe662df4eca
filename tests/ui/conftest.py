"""Qt fixtures: widgets run offscreen on a qasync loop that qtbot pumps.

`QT_QPA_PLATFORM` is set in tests/conftest.py before anything imports Qt. Async code under test
runs on `qloop`; `run_async` waits for one coroutine while Qt keeps processing events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from helpers_ui import RunningDemo
from PySide6.QtCore import QCoreApplication, QSettings

from helpers import Server
from kazoodesk.profiles import ProfileStore
from kazoodesk.ui.main_window import MainWindow

T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """QSettings of the tests go to a scratch directory, never the user's."""
    QCoreApplication.setOrganizationName("kazoodesk-tests")
    QCoreApplication.setApplicationName("kazoodesk-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        str(tmp_path_factory.mktemp("qsettings")),
    )


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop driven by Qt's: pumped by qtbot's waits, like the app's own loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = ThreadPoolExecutor(2, thread_name_prefix="test-executor")
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    for _ in range(20):
        if all(task.done() for task in pending):
            break
        qapp.processEvents()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    executor.shutdown(wait=True)


@pytest.fixture
def run_async(qloop: asyncio.AbstractEventLoop, qtbot: Any) -> Any:
    """`run_async(coro, timeout=10)` runs `coro` on the Qt loop and returns its result."""

    def run(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        task = qloop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return run


@pytest.fixture
def window(qtbot: Any, run_async: Any, server: Server, tmp_path: Path) -> Iterator[MainWindow]:
    """The main window in demo mode on the module's `server` (a fixture each module names)."""
    window = MainWindow(ProfileStore(tmp_path), RunningDemo(server))
    qtbot.addWidget(window)
    window.show()
    assert run_async(window.start_demo(), timeout=30)
    yield window
    if window.editor is not None:
        window.editor.clear()  # whatever a test left unsaved: closing must not ask
    if window.session is not None:
        run_async(window.session.close())
