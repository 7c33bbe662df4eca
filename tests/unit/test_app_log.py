"""The app's log file: in the log dir, rotated, warnings also on stderr, and a dir that cannot
be written leaves the app logging to stderr only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kazoodesk.app_log import BACKUP_COUNT, LOG_FILE, ON_STDERR, recent_lines, setup_logging


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """The root logger as pytest had it, whatever a test set up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def test_records_go_to_the_log_file(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "logs")

    logging.getLogger("kazoodesk.test").info("hello %s", "log")

    assert path == tmp_path / "logs" / LOG_FILE
    assert recent_lines(path)[-1].endswith("INFO    kazoodesk.test [MainThread] hello log")


def test_the_file_is_rotated_and_old_ones_dropped(tmp_path: Path) -> None:
    path = setup_logging(tmp_path, max_bytes=2_000)

    for n in range(400):
        logging.getLogger("kazoodesk.test").info("line %d %s", n, "x" * 40)

    assert path is not None and path.stat().st_size <= 2_000
    backups = sorted(p.name for p in tmp_path.iterdir() if p.name != LOG_FILE)
    assert backups == [f"{LOG_FILE}.{n}" for n in range(1, BACKUP_COUNT + 1)]
    assert "line 399" in recent_lines(path)[-1]


def test_warnings_also_go_to_stderr_unless_already_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path)
    log = logging.getLogger("kazoodesk.test")

    log.info("quiet")
    log.warning("loud")
    log.warning("printed by its source", extra={ON_STDERR: True})

    err = capsys.readouterr().err
    assert "loud" in err and "quiet" not in err and "printed by its source" not in err
    assert "printed by its source" in recent_lines(tmp_path / LOG_FILE)[-1]


def test_a_second_set_up_replaces_the_first(tmp_path: Path) -> None:
    setup_logging(tmp_path / "one")
    setup_logging(tmp_path / "two")

    logging.getLogger("kazoodesk.test").info("where")

    assert recent_lines(tmp_path / "one" / LOG_FILE) == []
    assert "where" in recent_lines(tmp_path / "two" / LOG_FILE)[-1]


def test_an_unwritable_log_dir_leaves_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    path = setup_logging(not_a_directory / "logs")
    logging.getLogger("kazoodesk.test").error("still said")

    assert path is None
    err = capsys.readouterr().err
    assert "no log file" in err and "still said" in err


def test_recent_lines_are_the_last_ones(tmp_path: Path) -> None:
    log = tmp_path / "some.log"
    log.write_text("".join(f"{n}\n" for n in range(100)))

    assert recent_lines(log, 3) == ["97", "98", "99"]
    assert recent_lines(tmp_path / "missing.log") == []
    assert recent_lines(None) == []
