"""One demo window per demo store: a second start hands over to the first, which shows its
window; what a crashed first left behind (lock, socket) does not block the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kazoodesk.ui.single_instance import LOCK_FILE, SingleInstance

HAND_OVER = """
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from kazoodesk.ui.single_instance import SingleInstance
app = QCoreApplication([])
second = SingleInstance(Path(sys.argv[1]))
print("claimed" if second.claim() else second.hand_over() or "handed over", flush=True)
"""


def hand_over_from_another_process(store: Path) -> subprocess.Popen[str]:
    """A second start on `store` (in a process of its own: it blocks while this one, which
    must answer it, runs Qt's events; its answer is on its stdout)."""
    return subprocess.Popen(
        [sys.executable, "-c", HAND_OVER, str(store)], stdout=subprocess.PIPE, text=True
    )


def answer_of(qtbot: Any, second: subprocess.Popen[str]) -> str:
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=15_000)
    assert second.stdout is not None
    return second.stdout.read().strip()


@pytest.fixture
def first(tmp_path: Path) -> Iterator[SingleInstance]:
    instance = SingleInstance(tmp_path / "demo")
    assert instance.claim() and instance.listen()
    yield instance
    instance.release()


def test_a_second_start_hands_over_to_the_first(
    qtbot: Any, tmp_path: Path, first: SingleInstance
) -> None:
    with qtbot.waitSignal(first.activationRequested):
        second = hand_over_from_another_process(tmp_path / "demo")

    assert answer_of(qtbot, second) == "handed over"


def test_another_store_is_another_instance(tmp_path: Path, first: SingleInstance) -> None:
    other = SingleInstance(tmp_path / "other-demo")

    assert other.claim() and other.name != first.name
    other.release()


def test_the_store_is_free_again_once_released(tmp_path: Path, first: SingleInstance) -> None:
    first.release()

    again = SingleInstance(tmp_path / "demo")
    assert again.claim() and again.listen()
    again.release()
    assert not (tmp_path / "demo" / LOCK_FILE).exists()


def test_a_first_that_never_answers_is_reported(tmp_path: Path, first: SingleInstance) -> None:
    # the first's loop does not run here: it cannot answer
    second = SingleInstance(tmp_path / "demo")

    started = time.monotonic()
    problem = second.hand_over()

    assert problem == "it did not confirm showing its window"
    assert time.monotonic() - started < 10


def test_a_store_that_cannot_be_locked_does_not_stop_the_start(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    assert SingleInstance(not_a_directory).claim()  # the demo then says what is wrong


CRASHING_FIRST = """
import os, sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from kazoodesk.ui.single_instance import SingleInstance
app = QCoreApplication([])
first = SingleInstance(Path(sys.argv[1]))
assert first.claim() and first.listen()
print("listening", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a socket file and SIGKILL: POSIX")
def test_what_a_killed_first_left_does_not_block_the_next(qtbot: Any, tmp_path: Path) -> None:
    store = tmp_path / "demo"
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_FIRST, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert crashed.stdout is not None and crashed.stdout.readline() == "listening\n"
    finally:
        os.kill(crashed.pid, signal.SIGKILL)
        crashed.wait()
    assert (store / LOCK_FILE).exists()  # left behind, like the socket file

    next_start = SingleInstance(store)
    assert next_start.claim() and next_start.listen()
    with qtbot.waitSignal(next_start.activationRequested):
        second = hand_over_from_another_process(store)
    answer = answer_of(qtbot, second)
    next_start.release()

    assert answer == "handed over"


# ---- the app itself ------------------------------------------------------------------------


def isolated_env(home: Path) -> dict[str, str]:
    """The user dirs under `home`; offscreen."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "DISPLAY"}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        QT_QPA_PLATFORM="offscreen",
        WAYLAND_DISPLAY="",
    )
    return env


def kazoodesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "kazoodesk", *args]


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_a_second_kazoodesk_shows_the_first_and_exits(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    store = tmp_path / "data" / "kazoodesk" / "demo"
    log = tmp_path / "state" / "kazoodesk" / "log" / "kazoodesk.log"
    first = subprocess.Popen(kazoodesk(), env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(store / LOCK_FILE)

        second = subprocess.run(kazoodesk(), env=env, capture_output=True, text=True, timeout=30)
        smoke = subprocess.run(
            kazoodesk("--smoke-test", str(tmp_path / "smoke.png")),
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        first.send_signal(signal.SIGTERM)  # closes the window like its close button
        first.wait(30)

    assert second.returncode == 0, second.stderr
    assert f"already running on {store}; showed its window" in second.stdout
    assert "another start on this demo store: showing the window" in log.read_text()
    # a smoke test is not a second demo window: it runs, alongside
    assert smoke.returncode == 0, smoke.stderr
    assert first.returncode == 0
    assert not (store / LOCK_FILE).exists()
