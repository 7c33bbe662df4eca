"""Helpers of the window tests: a demo server that is already running, dialogs to answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QWidget

from helpers import Server

W = TypeVar("W", bound=QWidget)
OUTPUT = Path(__file__).resolve().parents[1] / "output"


class RunningDemo:
    """The `DemoServer` the window starts: here a simulator the test already runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cache_name = str(server.runner.options.data_dir)
        self.stopped = False

    def start(self) -> dict[str, Any]:
        return self.server.ready

    def stop(self) -> None:
        self.stopped = True


def open_dialog(qtbot: Any, kind: type[W], timeout: int = 5000) -> W:
    """The visible top-level widget of `kind` once it shows (dialogs are awaited, not exec'd)."""
    found: list[W] = []

    def shown() -> bool:
        found[:] = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()
        ]
        return bool(found)

    qtbot.waitUntil(shown, timeout=timeout)
    return found[-1]


def screenshot(widget: QWidget, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
