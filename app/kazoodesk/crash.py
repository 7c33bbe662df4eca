"""Crash reports: what an uncaught exception (of any thread) or a hard crash left behind, in
the log dir as crash-YYYYmmdd-HHMMSS.txt, and the user told where it is.

An uncaught exception in a Qt slot or a spawned task does not end the app: it is reported and
the app carries on. A hard crash (a segfault in Qt, an abort) cannot report itself:
faulthandler dumps the Python stacks into FAULT_FILE, and the next start turns that dump into
a report (`collect_hard_crash`).

How the user is told is `notify`'s job: stderr here; the GUI replaces it with a dialog once
its window is up (kazoodesk.ui.crash_dialog).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from kazoodesk import __version__
from kazoodesk.app_log import recent_lines

FAULT_FILE = "fault.log"
REPORT_PREFIX = "crash-"
log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def tell_on_stderr(report: Path) -> None:
    print(f"kazoodesk: an unexpected error; a report is in {report}", file=sys.stderr, flush=True)


class CrashReporter:
    """Writes crash reports into `log_dir`; `about` holds the lines every report starts with
    after the version and platform (the GUI adds the Qt version)."""

    def __init__(self, log_dir: Path, log_file: Path | None = None) -> None:
        self.log_dir = log_dir
        self.log_file = log_file
        self.about: dict[str, str] = {}
        self.notify: Callable[[Path], None] = tell_on_stderr
        self.reports: list[Path] = []  # written by this process, oldest first
        self._fault_file: IO[str] | None = None

    def install(self) -> None:
        """Report uncaught exceptions of every thread; dump the stacks on a hard crash."""
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        self._enable_faulthandler()

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report((exc_type, exc, tb), threading.current_thread().name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return  # as threading's own hook: a thread's SystemExit ends it quietly
        thread = args.thread.name if args.thread is not None else "a thread"
        self.report((args.exc_type, args.exc_value, args.exc_traceback), thread)

    def report(self, exc_info: ExcInfo, thread: str) -> Path | None:
        """Write a report of `exc_info` (raised in `thread`), log it and tell the user. With
        nowhere to write, the traceback goes to stderr as Python's own hook has it."""
        lines = traceback.format_exception(*exc_info)
        text = self._report_text(f"Uncaught exception in thread {thread}", "".join(lines))
        path = self._write(text, datetime.now())
        if path is None:
            sys.__excepthook__(*exc_info)
            return None
        log.error("uncaught exception in %s; report %s", thread, path, exc_info=exc_info)
        self.notify(path)
        return path

    def collect_hard_crash(self) -> Path | None:
        """A report of the last hard crash, if faulthandler dumped one since it was last
        collected (the dump file is emptied). Call before `install`."""
        fault = self.log_dir / FAULT_FILE
        try:
            dump = fault.read_text(encoding="utf-8", errors="replace")
            if not dump.strip():
                return None
            when = datetime.fromtimestamp(fault.stat().st_mtime)
            fault.write_text("", encoding="utf-8")
        except OSError:
            return None
        header = "Hard crash of an earlier run (the stacks faulthandler dumped)"
        path = self._write(self._report_text(header, dump, with_log=False), when)
        if path is not None:
            log.error("the last run crashed; report %s", path)
        return path

    def _enable_faulthandler(self) -> None:
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            # appended to, not truncated: another KazooDesk may be writing into it too
            self._fault_file = (self.log_dir / FAULT_FILE).open("a", encoding="utf-8")
        except OSError:
            self._fault_file = None
        faulthandler.enable(file=self._fault_file or sys.stderr, all_threads=True)

    def _report_text(self, title: str, body: str, *, with_log: bool = True) -> str:
        import platform  # only now: the app's start need not wait for it

        about = {
            "KazooDesk": __version__,
            "Python": sys.version.replace("\n", " "),
            "Platform": platform.platform(),
            **self.about,
            "Process": str(os.getpid()),
        }
        parts = [f"KazooDesk crash report: {title}", ""]
        parts += [f"{key}: {value}" for key, value in about.items()]
        parts += ["", body.rstrip(), ""]
        if with_log:
            parts += [f"Recent log lines ({self.log_file}):", *recent_lines(self.log_file), ""]
        return "\n".join(parts)

    def _write(self, text: str, when: datetime) -> Path | None:
        """Into the log dir, or the temp dir when that cannot be written (None: neither)."""
        import tempfile  # only now: the app's start need not wait for it

        for folder in (self.log_dir, Path(tempfile.gettempdir())):
            try:
                path = _write_new(folder, when, text)
            except OSError:
                continue
            self.reports.append(path)
            return path
        return None


def _write_new(folder: Path, when: datetime, text: str) -> Path:
    """`text` into a new crash-YYYYmmdd-HHMMSS.txt (-2, -3... when that second has one)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = REPORT_PREFIX + when.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 100):
        path = folder / (f"{stem}.txt" if n == 1 else f"{stem}-{n}.txt")
        try:
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(folder / f"{stem}.txt")
