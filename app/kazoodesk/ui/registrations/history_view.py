"""`RegistrationHistory`: one device's registrations in this session, for the editor's side
panel. A band over the last hour (up, down, not seen yet; a tick at each point) and below it
the points, newest first.

An up from a contact other than the last up's is marked (bold, in the warning tone, in the
table; a warning tick on the band): a contact change is what flapping detection counts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.live.tracker import HistoryPoint, Kind
from kazoodesk.ui.registrations.activity_chart import SPANS, clock, tooltip_event
from kazoodesk.ui.tables import show_rows
from kazoodesk.ui.theme import tone

AnyIndex = QModelIndex | QPersistentModelIndex
UP, DOWN, UNKNOWN = "up", "down", "unknown"
HISTORY_SPANS = tuple(s for s in SPANS if s[1] is not None)
DEFAULT_SPAN_S = 3600.0
EMPTY_TEXT = "No registration seen for this device in this session"
NEW_CONTACT_ROLE = Qt.ItemDataRole.UserRole + 1  # bool: an up from a contact not the last one

_BAND = 18  # px of the band itself
_OVERHANG = 4  # px a tick reaches above and below it


@dataclass(frozen=True)
class Segment:
    """A stretch of the timeline in one state, begun by `point` (None before the first)."""

    start: float
    end: float
    state: str  # UP, DOWN or UNKNOWN
    point: HistoryPoint | None = None
    new_contact: bool = False


def new_contacts(points: Sequence[HistoryPoint]) -> list[bool]:
    """For each point (in time order), whether it is an up from a contact other than the
    previous up's (the first up is not: there is nothing to compare)."""
    marks: list[bool] = []
    last: str | None = None
    for point in points:
        marks.append(point.up and last is not None and point.contact != last)
        if point.up:
            last = point.contact
    return marks


def segments(points: Sequence[HistoryPoint], start: float, end: float) -> list[Segment]:
    """[start, end] cut where the points change the state; each point's state holds until the
    next point (the last one's until `end`), and nothing is known before the first."""
    ordered = sorted(points, key=lambda p: p.at)
    marks = new_contacts(ordered)
    cuts = [Segment(float("-inf"), ordered[0].at if ordered else end, UNKNOWN)]
    for i, point in enumerate(ordered):
        until = ordered[i + 1].at if i + 1 < len(ordered) else end
        cuts.append(Segment(point.at, until, UP if point.up else DOWN, point, marks[i]))
    return [
        Segment(max(s.start, start), min(s.end, end), s.state, s.point, s.new_contact)
        for s in cuts
        if s.end > start and s.start < end and s.end > s.start
    ]


def describe(segment: Segment, now: float) -> str:
    """A segment in words, e.g. "up since 14:02:11 from sip:1001@10.0.0.5:5060 (Yealink)"."""
    point = segment.point
    if point is None:
        return f"no registration seen before {clock(segment.end)}"
    if point.up:
        text = f"up since {clock(point.at)} from {point.contact or 'an unknown contact'}"
        if point.user_agent:
            text += f" ({point.user_agent})"
        if segment.new_contact:
            text += ", a new contact"
    else:
        text = f"down since {clock(point.at)}"
        if point.why:
            text += f" ({point.why})"
    if segment.end < now:
        text += f", until {clock(segment.end)}"
    return text


def _fill_tone(segment: Segment) -> str:
    """Red for a device that dropped, grey for one unregistered on purpose."""
    if segment.state == DOWN and segment.point and segment.point.why == Kind.UNREGISTERED:
        return "timeline-off"
    return f"timeline-{segment.state}"


class Col(IntEnum):
    TIME = 0
    STATE = 1
    CONTACT = 2
    USER_AGENT = 3


HEADERS = {
    Col.TIME: "Time",
    Col.STATE: "State",
    Col.CONTACT: "Contact",
    Col.USER_AGENT: "User agent",
}


class HistoryTableModel(QAbstractTableModel):
    """A device's history points, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[HistoryPoint, bool]] = []  # (point, from a new contact)

    def set_points(self, points: Sequence[HistoryPoint]) -> None:
        ordered = sorted(points, key=lambda p: p.at)
        self.beginResetModel()
        self._rows = list(zip(ordered, new_contacts(ordered), strict=True))[::-1]
        self.endResetModel()

    def point(self, row: int) -> HistoryPoint:
        return self._rows[row][0]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Col(section)) if 0 <= section < len(Col) else None
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        point, new = self._rows[index.row()]
        column = Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(point, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(index.row(), column)
        if role == NEW_CONTACT_ROLE:
            return new
        if role == Qt.ItemDataRole.FontRole and new and column == Col.CONTACT:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            return _foreground(point, new, column)
        return None

    def _tooltip(self, row: int, column: Col) -> str | None:
        point, new = self._rows[row]
        if column == Col.TIME:
            return datetime.fromtimestamp(point.at).astimezone().isoformat(timespec="seconds")
        if column == Col.CONTACT and new:
            older = next((p for p, _ in self._rows[row + 1 :] if p.up), None)
            was = f"; it was {older.contact}" if older is not None else ""
            return f"{point.contact}\nA new contact{was}"
        return _display(point, column) or None


def _display(point: HistoryPoint, column: Col) -> str:
    if column == Col.TIME:
        return clock(point.at)
    if column == Col.STATE:
        state = "Up" if point.up else "Down"
        return f"{state} ({point.why})" if point.why else state
    if column == Col.CONTACT:
        return point.contact
    return point.user_agent


def _foreground(point: HistoryPoint, new: bool, column: Col) -> QColor | None:
    palette = QGuiApplication.palette()
    if column == Col.STATE and (point.up or point.why != Kind.UNREGISTERED):
        return QColor(tone("ok" if point.up else "error", palette))
    if column == Col.CONTACT and new:
        return QColor(tone("warning", palette))
    return None


class Timeline(QWidget):
    """The band: a device's states over the last `span` seconds up to now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history.timeline")
        self.setAccessibleName("Registration timeline")
        self._points: list[HistoryPoint] = []
        self._now = 0.0
        self._span = DEFAULT_SPAN_S
        self._segments: list[Segment] = []
        height = 2 * _OVERHANG + _BAND + 2 + self.fontMetrics().height()
        self.setFixedHeight(height)

    def set_points(self, points: Sequence[HistoryPoint], now: float) -> None:
        self._points = sorted(points, key=lambda p: p.at)
        self.set_now(now)

    def set_now(self, now: float) -> None:
        self._now = now
        self._refresh()

    def set_span(self, seconds: float) -> None:
        self._span = seconds
        self._refresh()

    def visible_window(self) -> tuple[float, float]:
        return self._now - self._span, self._now

    def segments(self) -> list[Segment]:
        return list(self._segments)

    def segment_at(self, at: float) -> Segment | None:
        """The segment that `at` falls in (None outside the window)."""
        start, end = self.visible_window()
        if not start <= at <= end or not self._segments:
            return None
        index = bisect_right([s.start for s in self._segments], at) - 1
        return self._segments[max(index, 0)]

    def time_at(self, x: float) -> float:
        band = self.band_rect()
        start, end = self.visible_window()
        return start + (x - band.left()) / max(band.width(), 1) * (end - start)

    def x_of(self, at: float) -> float:
        band = self.band_rect()
        start, end = self.visible_window()
        return band.left() + (at - start) / (end - start) * band.width()

    def tooltip_at(self, pos: QPoint) -> str:
        if not self.band_rect().adjusted(0, -_OVERHANG, 0, _OVERHANG).contains(pos):
            return ""
        segment = self.segment_at(self.time_at(pos.x()))
        return describe(segment, self._now) if segment is not None else ""

    def sizeHint(self) -> QSize:
        return QSize(320, self.height())

    def event(self, event: QEvent) -> bool:
        return tooltip_event(self, event, self.tooltip_at) or super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        band = self.band_rect()
        for segment in self._segments:
            left, right = round(self.x_of(segment.start)), round(self.x_of(segment.end))
            fill = QColor(tone(_fill_tone(segment), palette))
            painter.fillRect(self._bar(band, segment.state, left, right), fill)
        self._paint_ticks(painter, band)
        self._paint_labels(painter, band)

    def _paint_ticks(self, painter: QPainter, band: QRect) -> None:
        start, end = self.visible_window()
        ink = self.palette().color(self.foregroundRole())
        warning = QColor(tone("warning", self.palette()))
        for segment in self._segments:
            point = segment.point
            if point is None or not start <= point.at <= end:
                continue
            x = min(round(self.x_of(point.at)), band.right())
            width = 2 if segment.new_contact else 1
            colour = warning if segment.new_contact else ink
            painter.fillRect(QRect(x, 0, width, band.bottom() + _OVERHANG + 1), colour)

    def _paint_labels(self, painter: QPainter, band: QRect) -> None:
        start, _ = self.visible_window()
        painter.setPen(self.palette().color(self.foregroundRole()))
        row = QRect(band.left(), band.bottom() + _OVERHANG + 2, band.width(), 100)
        top = Qt.AlignmentFlag.AlignTop
        painter.drawText(row, top | Qt.AlignmentFlag.AlignLeft, clock(start, self._span < 3600))
        painter.drawText(row, top | Qt.AlignmentFlag.AlignRight, "now")

    @staticmethod
    def _bar(band: QRect, state: str, left: int, right: int) -> QRect:
        """Up fills the band, down 60 % of it and unknown a third: told apart without colour."""
        height = {UP: band.height(), DOWN: band.height() * 3 // 5}.get(state, band.height() // 3)
        top = band.top() + (band.height() - height) // 2
        return QRect(left, top, max(right - left, 1), height)

    def band_rect(self) -> QRect:
        return QRect(0, _OVERHANG, max(self.width() - 1, 1), _BAND)

    def _refresh(self) -> None:
        start, end = self.visible_window()
        self._segments = segments(self._points, start, end) if self._now else []
        last = self._segments[-1] if self._segments else None
        self.setAccessibleDescription(describe(last, self._now) if last else "")
        self.update()


class RegistrationHistory(QWidget):
    """A device's registration history: `set_points(tracker.history(id), now, registered)`,
    `set_now` as time passes, `clear()` when no device is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registrations.history")
        self.setAccessibleName("Registration history")
        self.status = QLabel(self)
        self.status.setObjectName("history.status")
        self.span_box = QComboBox(self)
        self.span_box.setObjectName("history.span")
        self.span_box.setAccessibleName("Time span")
        for label, _ in HISTORY_SPANS:
            self.span_box.addItem(label)
        self.span_box.setCurrentIndex([s for _, s in HISTORY_SPANS].index(DEFAULT_SPAN_S))
        self.span_box.currentIndexChanged.connect(self._span_picked)
        self.timeline = Timeline(self)
        self.model = HistoryTableModel(self)
        self.table = self._make_table()
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("history.empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._lay_out()
        self.clear()

    def _make_table(self) -> QTableView:
        table = QTableView(self)
        table.setObjectName("history.table")
        table.setAccessibleName("Registration history")
        table.setModel(self.model)
        show_rows(table, row_padding=6)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        return table

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.span_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.timeline)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)

    def set_points(self, points: Sequence[HistoryPoint], now: float, registered_now: bool) -> None:
        fit = self.model.rowCount() == 0  # a new device: widths the user set stay till then
        self.model.set_points(points)
        self.timeline.set_points(points, now)
        self.table.setHidden(not points)
        self.empty.setHidden(bool(points))
        self.empty.setText(
            EMPTY_TEXT + (" (the server lists it as registered)" if registered_now else "")
        )
        self.status.setText(_status(points, registered_now))
        if points and fit:
            self._fit_columns()

    def set_now(self, now: float) -> None:
        self.timeline.set_now(now)

    def set_span(self, seconds: float) -> None:
        """One of the `HISTORY_SPANS`, in seconds."""
        spans = [s for _, s in HISTORY_SPANS]
        if seconds not in spans:
            raise ValueError(f"no span of {seconds} s")
        self.span_box.setCurrentIndex(spans.index(seconds))

    def clear(self) -> None:
        self.set_points([], 0.0, False)
        self.status.setText("")

    def _span_picked(self, index: int) -> None:
        span = HISTORY_SPANS[index][1]
        assert span is not None
        self.timeline.set_span(span)

    def _fit_columns(self) -> None:
        for column in (Col.TIME, Col.STATE, Col.CONTACT):
            self.table.resizeColumnToContents(column)
        bold = QFont(self.table.font())
        bold.setBold(True)
        widest = QFontMetrics(bold).horizontalAdvance("sip:user1001@192.168.100.100:5060")
        if self.table.columnWidth(Col.CONTACT) > widest:  # a long contact is elided instead
            self.table.setColumnWidth(Col.CONTACT, widest)


def _status(points: Sequence[HistoryPoint], registered_now: bool) -> str:
    """What the device is now, in words: since when, when the history agrees."""
    last = max(points, key=lambda p: p.at) if points else None
    if last is not None and last.up == registered_now:
        since = f"{'Up' if last.up else 'Down'} since {clock(last.at)}"
        return since if last.up or not last.why else f"{since} ({last.why})"
    return "Registered now" if registered_now else "Not registered now"
