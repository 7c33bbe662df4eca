"""Crash reports: an uncaught exception (main thread or another) or a hard crash leaves
crash-YYYYmmdd-HHMMSS.txt in the log dir with what a bug report needs, and the user is told
where it is."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kazoodesk import __version__
from kazoodesk.app_log import setup_logging
from kazoodesk.crash import FAULT_FILE, CrashReporter

REPORT_NAME = re.compile(r"crash-\d{8}-\d{6}(-\d+)?\.txt")


@pytest.fixture
def reporter(tmp_path: Path) -> Iterator[CrashReporter]:
    """A reporter on a log dir of its own, with a log file; told reports are in `told`."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    reporter = CrashReporter(tmp_path / "logs", setup_logging(tmp_path / "logs"))
    reporter.told = []  # type: ignore[attr-defined]
    reporter.notify = reporter.told.append  # type: ignore[attr-defined]
    yield reporter
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    logging.captureWarnings(False)


def raised(message: str) -> tuple[type[BaseException], BaseException, object]:
    try:
        raise ValueError(message)
    except ValueError as exc:
        return type(exc), exc, exc.__traceback__


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )


def test_the_hook_writes_a_report_and_tells_where(reporter: CrashReporter) -> None:
    logging.getLogger("kazoodesk.test").info("the user opened a device")
    reporter.about["Qt"] = "6.x-test"

    reporter.excepthook(*raised("the form broke"))  # type: ignore[arg-type]

    [report] = reporter.told  # type: ignore[attr-defined]
    assert report.parent == reporter.log_dir and REPORT_NAME.fullmatch(report.name)
    text = report.read_text()
    assert "Uncaught exception in thread MainThread" in text
    assert "ValueError: the form broke" in text and "raise ValueError(message)" in text
    assert f"KazooDesk: {__version__}" in text and "Platform: " in text
    assert "Qt: 6.x-test" in text
    assert "the user opened a device" in text  # the recent log lines
    assert reporter.reports == [report]


def test_an_exception_in_another_thread_is_reported(
    reporter: CrashReporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threading, "excepthook", reporter.thread_excepthook)

    def work() -> None:
        raise RuntimeError("worker failed")

    worker = threading.Thread(target=work, name="kazoodesk-worker")
    worker.start()
    worker.join()

    [report] = reporter.told  # type: ignore[attr-defined]
    text = report.read_text()
    assert "thread kazoodesk-worker" in text and "RuntimeError: worker failed" in text


def test_reports_in_the_same_second_get_their_own_files(reporter: CrashReporter) -> None:
    for n in range(3):
        reporter.excepthook(*raised(f"number {n}"))  # type: ignore[arg-type]

    names = {p.name for p in reporter.reports}
    assert len(names) == 3 and all(REPORT_NAME.fullmatch(n) for n in names)


def test_an_unwritable_log_dir_writes_to_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    reporter = CrashReporter(not_a_directory / "logs")
    told: list[Path] = []
    reporter.notify = told.append

    reporter.excepthook(*raised("nowhere to log"))  # type: ignore[arg-type]

    assert told and told[0].parent == tmp_path / "tmp"


UNCAUGHT = """
import logging, sys
from pathlib import Path
from kazoodesk.app_log import setup_logging
from kazoodesk.crash import CrashReporter
log_dir = Path(sys.argv[1])
reporter = CrashReporter(log_dir, setup_logging(log_dir))
reporter.install()
logging.getLogger("kazoodesk.test").info("just before")
raise RuntimeError("boom at start")
"""


def test_an_uncaught_exception_at_start_is_reported_on_stderr(tmp_path: Path) -> None:
    done = run_python(UNCAUGHT, str(tmp_path))

    assert done.returncode == 1
    [report] = tmp_path.glob("crash-*.txt")
    assert f"a report is in {report}" in done.stderr
    text = report.read_text()
    assert "RuntimeError: boom at start" in text and "just before" in text


HARD_CRASH = """
import faulthandler, resource, sys
from pathlib import Path
from kazoodesk.crash import CrashReporter
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file for this one
CrashReporter(Path(sys.argv[1])).install()
faulthandler._sigsegv()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX segfault")
def test_a_hard_crash_is_reported_at_the_next_start(tmp_path: Path) -> None:
    crashed = run_python(HARD_CRASH, str(tmp_path))
    assert crashed.returncode != 0
    assert "Segmentation fault" in (tmp_path / FAULT_FILE).read_text()

    next_start = CrashReporter(tmp_path)
    report = next_start.collect_hard_crash()

    assert report is not None and REPORT_NAME.fullmatch(report.name)
    text = report.read_text()
    assert "Hard crash of an earlier run" in text and "Segmentation fault" in text
    assert "<module>" in text  # the Python stack of the crash
    assert (tmp_path / FAULT_FILE).read_text() == ""
    assert next_start.collect_hard_crash() is None  # reported once
