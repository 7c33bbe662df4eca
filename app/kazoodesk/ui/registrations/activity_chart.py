"""`ActivityChart`: how many devices were registered over time, a step line drawn live.

It is fed the tracker's `activity` (a point each time the count changed, at most one a second;
the count holds until the next point) and, each second, the time now (the right edge).

A day holds up to 86,400 points, so a paint never walks them: each pixel column of the visible
window is found by bisection and summed up by a min/max over its slice (`envelope`). The cost
follows the width, and a one-second drop in a 24 h window still shows as a spike.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import NamedTuple, cast

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPolygon,
)
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolTip, QVBoxLayout, QWidget

from kazoodesk.ui.theme import tone

MAX_SPAN_S = 24 * 3600.0
SESSION = None  # the span from the first sample to now
SPANS: tuple[tuple[str, float | None], ...] = (
    ("10 min", 600.0),
    ("1 h", 3600.0),
    ("6 h", 6 * 3600.0),
    ("24 h", MAX_SPAN_S),
    ("Session", SESSION),
)
EMPTY_TEXT = "No registrations yet"
_MIN_WINDOW_S = 60.0  # a session of one point still shows a minute
_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
_LABEL_GAP = 16  # px between two time labels
_Y_TICK_SPACING = 22  # px between two count ticks, at least
_PAD = 6

Role = QPalette.ColorRole


class Column(NamedTuple):
    """The counts one pixel column covers: the one it starts with, the lowest, the highest
    and the one it ends with."""

    first: int
    low: int
    high: int
    last: int


def envelope(
    times: Sequence[float], counts: Sequence[int], start: float, end: float, width: int
) -> list[Column | None]:
    """The `width` columns of [start, end) over the step line; None where no sample came yet."""
    step = (end - start) / width
    edges = [start + i * step for i in range(width + 1)]
    holding = [bisect_right(times, e) - 1 for e in edges]  # the sample in force at each edge
    before = [bisect_left(times, e) - 1 for e in edges]  # the last one strictly before it
    columns: list[Column | None] = []
    for i in range(width):
        first, last = max(holding[i], 0), before[i + 1]
        if last < 0:
            columns.append(None)
        elif first == last:
            value = counts[first]
            columns.append(Column(value, value, value, value))
        else:
            span = counts[first : last + 1]
            columns.append(Column(counts[first], min(span), max(span), counts[last]))
    return columns


def nice_ticks(highest: int, most: int) -> list[int]:
    """0 and evenly spaced round counts (1, 2 or 5 times a power of ten apart) up to the first
    at or above `highest`, at most `most` of them (never fewer than 0 and 1)."""
    highest, most = max(highest, 1), max(most, 2)
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            count = -(-highest // step)
            if count + 1 <= most:
                return list(range(0, (count + 1) * step, step))
        magnitude *= 10


def time_ticks(
    start: float, end: float, width: int, short_px: int, long_px: int
) -> tuple[list[float], bool]:
    """Times on round local clock values over [start, end], far enough apart for their labels
    (`short_px` wide as HH:MM, `long_px` as HH:MM:SS), and whether they need the seconds."""
    per_px = (end - start) / max(width, 1)
    step = _TIME_STEPS[-1]
    for candidate in _TIME_STEPS:
        label = long_px if candidate < 60 else short_px
        if candidate / per_px >= label + _LABEL_GAP:
            step = candidate
            break
    offset = time.localtime(start).tm_gmtoff  # round in local time, not UTC
    first = math.ceil((start + offset) / step) * step - offset
    count = int((end - first) // step) + 1
    return [first + k * step for k in range(max(count, 0))], step < 60


def clock(at: float, seconds: bool = True) -> str:
    """`at` as local time of day: HH:MM:SS (or HH:MM)."""
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(at))


class _Rows(dict[float, int]):
    """The pixel row of each count in `plot` (`top` at its top), each worked out once."""

    def __init__(self, plot: QRect, top: int) -> None:
        super().__init__()
        self.bottom = plot.bottom()
        self.scale = (plot.height() - 1) / top

    def __missing__(self, count: float) -> int:
        row = self[count] = self.bottom - round(count * self.scale)
        return row


def _across(left: int, right: int, y: int) -> QRect:
    """The line from `left` to `right` at `y`."""
    return QRect(left, y - 1, right - left + 2, 2)


def _down(x: int, high: int, low: int) -> QRect:
    """The line down column `x` from the row `high` to the row `low`."""
    return QRect(x, high - 1, 2, low - high + 2)


def registered_text(count: int) -> str:
    return f"{count:,} registered"


def tooltip_event(widget: QWidget, event: QEvent, text_at: Callable[[QPoint], str]) -> bool:
    """Show `text_at(position)` for a tooltip event (True: handled); other events: False."""
    if event.type() != QEvent.Type.ToolTip:
        return False
    help_event = cast(QHelpEvent, event)
    text = text_at(help_event.pos())
    if text:
        QToolTip.showText(help_event.globalPos(), text, widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True


class ActivityChart(QWidget):
    """Registered devices over time. `set_samples` with the tracker's `activity`, `set_now`
    each second; the span combo ("chart.span") picks the visible window."""

    spanChanged = Signal(object)  # seconds, or None for the session

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registrations.chart")
        self.setAccessibleName("Registered devices over time")
        self.setMinimumHeight(100)
        self._times: list[float] = []
        self._counts: list[int] = []
        self._now = 0.0
        self._span: float | None = SESSION
        self.span_box = QComboBox(self)
        self.span_box.setObjectName("chart.span")
        self.span_box.setAccessibleName("Time span")
        self.span_box.setToolTip("The time the chart shows")
        for label, _ in SPANS:
            self.span_box.addItem(label)
        self.span_box.setCurrentIndex(len(SPANS) - 1)
        self.span_box.currentIndexChanged.connect(self._span_picked)
        header = QHBoxLayout()
        header.addStretch(1)
        header.addWidget(self.span_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(_PAD, _PAD, _PAD, _PAD)
        layout.addLayout(header)
        layout.addStretch(1)
        self._describe()

    # ---- feeding -----------------------------------------------------------------------------

    def set_samples(self, samples: Sequence[tuple[float, int]]) -> None:
        """(time, devices registered) points in time order: the count holds until the next."""
        self._times = [at for at, _ in samples]
        self._counts = [count for _, count in samples]
        self._describe()
        self.update()

    def set_now(self, now: float) -> None:
        self._now = now
        self.update()

    def set_span(self, seconds: float | None) -> None:
        """One of the `SPANS` (in seconds, or SESSION)."""
        spans = [s for _, s in SPANS]
        if seconds not in spans:
            raise ValueError(f"no span of {seconds} s")
        self.span_box.setCurrentIndex(spans.index(seconds))

    def span(self) -> float | None:
        return self._span

    def _span_picked(self, index: int) -> None:
        self._span = SPANS[index][1]
        self.update()
        self.spanChanged.emit(self._span)

    # ---- reading -----------------------------------------------------------------------------

    def value_at(self, at: float) -> int | None:
        """The count in force at `at`; None before the first sample."""
        index = bisect_right(self._times, at) - 1
        return self._counts[index] if index >= 0 else None

    def current(self) -> int | None:
        return self._counts[-1] if self._counts else None

    def visible_window(self) -> tuple[float, float]:
        """(start, end) of what the chart shows: the span up to now."""
        end = max(self._now, self._times[-1]) if self._times else self._now
        if self._span is SESSION:
            first = self._times[0] if self._times else end
            start = max(first, end - MAX_SPAN_S)
        else:
            start = end - self._span
        return min(start, end - _MIN_WINDOW_S), end

    def plot_rect(self) -> QRect:
        """Where the line is drawn (the axes' labels are outside it)."""
        return self._layout()[0]

    def position_of(self, at: float, count: float) -> QPoint:
        """The pixel of (`at`, `count`): in the column that holds `at`."""
        plot, ticks = self._layout()
        start, end = self.visible_window()
        x = math.floor(self._x(plot, start, end, at))
        return QPoint(x, self._y(plot, ticks[-1], count))

    def point_at(self, pos: QPoint) -> tuple[float, int] | None:
        """The (time, count) under `pos`: of the samples in its pixel column (and the one in
        force when the column starts), the one nearest the cursor's height."""
        plot, ticks = self._layout()
        if not self._times or not plot.adjusted(0, -_PAD, 1, _PAD).contains(pos):
            return None
        start, end = self.visible_window()
        per_px = (end - start) / plot.width()
        begin = start + (pos.x() - plot.left()) * per_px
        first = max(bisect_right(self._times, begin) - 1, 0)
        last = bisect_left(self._times, begin + per_px) - 1
        if last < 0:
            return None
        wanted = (plot.bottom() - pos.y()) / max(plot.height() - 1, 1) * ticks[-1]
        best = min(range(first, last + 1), key=lambda i: (abs(self._counts[i] - wanted), -i))
        return max(self._times[best], begin), self._counts[best]

    def tooltip_at(self, pos: QPoint) -> str:
        point = self.point_at(pos)
        if point is None:
            return ""
        return f"{clock(point[0])} — {registered_text(point[1])}"

    # ---- Qt ----------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(480, 160)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 100)

    def event(self, event: QEvent) -> bool:
        return tooltip_event(self, event, self.tooltip_at) or super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(Role.Base))
        painter.setPen(QColor(tone("chart-grid", palette)))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        plot, ticks = self._layout()
        painter.setPen(palette.color(Role.Text))
        if not self._times:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
            return
        start, end = self.visible_window()
        self._paint_value(painter)
        shapes = self._shapes(plot, ticks[-1], start, end)
        painter.setPen(Qt.PenStyle.NoPen)
        if shapes is not None:
            painter.setBrush(QColor(tone("chart-fill", palette)))
            painter.drawPolygon(shapes[1])
        self._paint_counts(painter, plot, ticks)  # the grid over the fill, under the line
        self._paint_times(painter, plot, start, end)
        if shapes is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(tone("chart-line", palette)))
            painter.drawRects(shapes[0])

    def _paint_value(self, painter: QPainter) -> None:
        font = painter.font()
        font.setBold(True)
        painter.save()
        painter.setFont(font)
        box = self.span_box.geometry()
        text_box = QRect(_PAD + 2, box.top(), box.left() - 2 * _PAD, box.height())
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(text_box, align, registered_text(self.current() or 0))
        painter.restore()

    def _paint_counts(self, painter: QPainter, plot: QRect, ticks: list[int]) -> None:
        grid = QColor(tone("chart-grid", self.palette()))
        text = self.palette().color(Role.Text)
        height = painter.fontMetrics().height()
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for value in ticks:
            y = self._y(plot, ticks[-1], value)
            painter.setPen(grid)
            painter.drawLine(plot.left(), y, plot.right(), y)
            painter.setPen(text)
            painter.drawText(
                QRect(0, y - height // 2, plot.left() - _PAD, height), align, f"{value:,}"
            )

    def _paint_times(self, painter: QPainter, plot: QRect, start: float, end: float) -> None:
        grid = QColor(tone("chart-grid", self.palette()))
        text = self.palette().color(Role.Text)
        metrics = painter.fontMetrics()
        times, seconds = time_ticks(start, end, plot.width(), *self._label_widths(metrics))
        limit = 3  # clear of the frame
        for at in times:
            x = round(self._x(plot, start, end, at))
            painter.setPen(grid)
            painter.drawLine(x, plot.top(), x, plot.bottom())
            label = clock(at, seconds)
            width = metrics.horizontalAdvance(label)
            left = max(x - width // 2, limit)  # pushed right by the last label, never past x
            if left + width > self.width() - 2 or left > x:
                continue
            painter.setPen(text)
            painter.drawText(QRect(left, plot.bottom() + 3, width, metrics.height()), 0, label)
            limit = left + width + _LABEL_GAP // 2

    def _shapes(
        self, plot: QRect, top: int, start: float, end: float
    ) -> tuple[list[QRect], QPolygon] | None:
        """The step line over [start, end] as rectangles (2 px thick: a stroked path of 86,400
        vertices takes a tenth of a second) and the area under it; None before any sample."""
        rects: list[QRect] = []
        area = QPolygon()
        rows = _Rows(plot, top)
        current: int | None = None
        run = 0  # where the horizontal stretch at `current` began
        for i, column in enumerate(envelope(self._times, self._counts, start, end, plot.width())):
            if column is None:
                continue
            x = plot.left() + i
            if current is None:
                current, run = column.first, x
                area.append(QPoint(x, plot.bottom()))
                area.append(QPoint(x, rows[current]))
            if column.low == column.high == current:
                continue
            rects.append(_across(run, x, rows[current]))
            rects.append(_down(x, rows[column.high], rows[column.low]))
            area.append(QPoint(x, rows[current]))
            area.append(QPoint(x, rows[column.last]))
            current, run = column.last, x
        if current is None:
            return None
        right = plot.right() + 1
        rects.append(_across(run, right, rows[current]))
        area.append(QPoint(right, rows[current]))
        area.append(QPoint(right, plot.bottom()))
        return rects, area

    # ---- geometry ----------------------------------------------------------------------------

    def _layout(self) -> tuple[QRect, list[int]]:
        """The plot's rectangle and the count ticks, the highest the top of the plot."""
        metrics = QFontMetrics(self.font())
        top = self.span_box.geometry().bottom() + _PAD + metrics.height() // 2
        bottom = self.height() - _PAD - metrics.height() - 3
        height = max(bottom - top, 1)
        start, end = self.visible_window()
        ticks = nice_ticks(self._visible_highest(start, end), height // _Y_TICK_SPACING + 1)
        left = _PAD + metrics.horizontalAdvance(f"{ticks[-1]:,}") + _PAD
        width = max(self.width() - left - 2 * _PAD, 1)
        return QRect(left, top, width, height), ticks

    def _visible_highest(self, start: float, end: float) -> int:
        first = max(bisect_right(self._times, start) - 1, 0)
        last = bisect_left(self._times, end)
        return max(self._counts[first : last + 1], default=0)

    def _label_widths(self, metrics: QFontMetrics) -> tuple[int, int]:
        return metrics.horizontalAdvance("00:00"), metrics.horizontalAdvance("00:00:00")

    @staticmethod
    def _x(plot: QRect, start: float, end: float, at: float) -> float:
        return plot.left() + (at - start) / (end - start) * plot.width()

    @staticmethod
    def _y(plot: QRect, top: int, count: float) -> int:
        return _Rows(plot, top)[count]

    def _describe(self) -> None:
        current = self.current()
        self.setAccessibleDescription(EMPTY_TEXT if current is None else registered_text(current))
