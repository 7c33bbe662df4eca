"""The app's log: a file in the user log dir, rotated, set up once at start by the composition
root (`kazoodesk.__main__`). Qt's own messages join it through `kazoodesk.ui.qt_log`.

Several KazooDesk processes (a demo window, a remote one, a smoke test) may append to the same
file; each rotates it on its own when it passes MAX_BYTES, which loses nothing worse than the
order of a few lines around a rotation.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FILE = "kazoodesk.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
# one line per HTTP request at INFO: the list's status refresh alone would fill the log
QUIET_LOGGERS = ("httpx", "httpcore", "websockets")
# set (`extra={ON_STDERR: True}`) on records whose source prints them on stderr itself
ON_STDERR = "on_stderr"


def setup_logging(
    log_dir: Path, level: int = logging.INFO, max_bytes: int = MAX_BYTES
) -> Path | None:
    """Log to `log_dir`/kazoodesk.log (`max_bytes` × BACKUP_COUNT kept), warnings also to
    stderr.

    Returns the log file, or None when it cannot be written: the app still runs, logging to
    stderr only (and says so there). A second call replaces what the first set up."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if (h.get_name() or "").startswith("kazoodesk.")]:
        root.removeHandler(old)
        old.close()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.set_name("kazoodesk.stderr")
    stderr.setLevel(logging.WARNING)
    stderr.addFilter(lambda record: not getattr(record, ON_STDERR, False))
    file = _file_handler(log_dir / LOG_FILE, max_bytes)
    for handler in (stderr, file):
        if handler is not None:
            handler.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return None if file is None else log_dir / LOG_FILE


def _file_handler(path: Path, max_bytes: int) -> RotatingFileHandler | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        print(f"kazoodesk: no log file ({exc}); logging to stderr only", file=sys.stderr)
        return None
    handler.set_name("kazoodesk.file")
    return handler


def recent_lines(path: Path | None, count: int = 60) -> list[str]:
    """The last `count` lines of the log file (none if there is no file to read)."""
    if path is None:
        return []
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            return [line.rstrip("\n") for line in deque(lines, maxlen=count)]
    except OSError:
        return []
