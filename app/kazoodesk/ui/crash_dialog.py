"""Telling the user, in a dialog over the window, that a crash report was written and where.

The crash handler may run on any thread: `CrashNotifier` is called there and shows the
dialog on the GUI thread (a queued signal). One dialog at a time; reports that come while it
is open are added to it, so a failure repeating on a timer does not pile up dialogs.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

TITLE = "KazooDesk: an unexpected error"
NOW = (
    "Something went wrong inside KazooDesk. It keeps running, but what you were doing may not"
    " have finished."
)
EARLIER = "KazooDesk stopped unexpectedly the last time it ran."


class CrashNotifier(QObject):
    """A `CrashReporter.notify` that shows a dialog over `window`; `earlier_crash` tells of
    the report of a hard crash found at start."""

    reported = Signal(str, str)  # report, what happened

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.box: QMessageBox | None = None
        self._paths: list[str] = []
        self.reported.connect(self._show)

    def __call__(self, report: Path) -> None:
        self.reported.emit(str(report), NOW)

    def earlier_crash(self, report: Path) -> None:
        self.reported.emit(str(report), EARLIER)

    def _show(self, report: str, what: str) -> None:
        self._paths.append(report)
        if self.box is None:
            self.box = self._new_box()
            self.box.open()
        self.box.setText(message(what, self._paths))

    def _new_box(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Critical, TITLE, "", parent=self._window)
        box.setObjectName("crash.report")
        box.setTextFormat(Qt.TextFormat.RichText)  # the reports are links that open them
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.finished.connect(self._closed)
        return box

    def _closed(self) -> None:
        if self.box is not None:
            self.box.deleteLater()
        self.box = None
        self._paths = []


def message(what: str, paths: list[str]) -> str:
    """The dialog's text (rich text: each report a link that opens it)."""
    links = "<br>".join(
        f'<a href="{QUrl.fromLocalFile(p).toString()}">{escape(p)}</a>' for p in paths
    )
    written = "A report was" if len(paths) == 1 else f"{len(paths)} reports were"
    return (
        f"<p>{escape(what)}</p><p>{written} written to:<br>{links}</p>"
        "<p>Please attach it to a bug report.</p>"
    )
