"""A device's registration history: the table (newest first, the why, new contacts marked),
the timeline's segments and their tooltips, the span, the empty state; fed by a real tracker.
Screenshots: tests/output/registration_history_*.png."""

from __future__ import annotations

import time
from typing import Any

import pytest
from helpers_ui import contrast, screenshot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from kazoodesk.live.tracker import HistoryPoint, RegistrationTracker
from kazoodesk.ui.registrations.activity_chart import clock
from kazoodesk.ui.registrations.history_view import (
    DOWN,
    EMPTY_TEXT,
    NEW_CONTACT_ROLE,
    UNKNOWN,
    UP,
    Col,
    HistoryTableModel,
    RegistrationHistory,
    segments,
)
from kazoodesk.ui.theme import tone

T0 = time.mktime((2024, 5, 29, 14, 0, 0, 0, 0, -1))  # 14:00 local
YEALINK = "Yealink SIP-T46S 66.86.0.15"
DESK = "sip:1001@10.0.0.5:5060"
HOME = "sip:1001@203.0.113.7:41234"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def event(contact: str, expires: int = 300, agent: str = YEALINK) -> dict[str, Any]:
    return {
        "username": "user1001",
        "realm": "acme.sip.example",
        "device_id": "dev-1001",
        "contact": f"<{contact}>",
        "user_agent": agent,
        "source_ip": contact.split("@")[1].split(":")[0],
        "source_port": contact.rsplit(":", 1)[1],
        "expires": expires,
    }


def flapping_phone() -> tuple[list[HistoryPoint], float]:
    """A desk phone registered from 14:02:11, expired at 14:20, back at 14:25, unregistered by
    hand at 14:40, then up from home (a new contact) at 14:45 and from the desk again at 14:50:
    the history the tracker keeps, and the time after it."""
    clock_ = Clock()
    tracker = RegistrationTracker(clock=clock_)
    steps: list[tuple[float, str, str, str]] = [
        (131, "registered", DESK, YEALINK),
        (20 * 60, "expired", DESK, YEALINK),
        (25 * 60, "registered", DESK, YEALINK),
        (40 * 60, "unregistered", DESK, YEALINK),
        (45 * 60, "registered", HOME, "Yealink SIP-T46S 66.86.0.20"),
        (50 * 60, "unregistered", HOME, "Yealink SIP-T46S 66.86.0.20"),
        (50 * 60 + 3, "registered", DESK, YEALINK),
    ]
    for at, kind, contact, agent in steps:
        clock_.now = T0 + at
        tracker.apply_event(kind, event(contact, agent=agent))
    return tracker.history("dev-1001"), T0 + 55 * 60


@pytest.fixture
def history(qtbot: Any) -> RegistrationHistory:
    widget = RegistrationHistory()
    qtbot.addWidget(widget)
    widget.resize(440, 320)
    widget.show()
    return widget


def column(model: HistoryTableModel, col: Col, role: int = Qt.ItemDataRole.DisplayRole) -> list:
    return [model.index(r, col).data(role) for r in range(model.rowCount())]


def test_the_table_lists_the_points_newest_first(
    history: RegistrationHistory, qtmodeltester: Any
) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)

    model = history.model
    assert column(model, Col.TIME) == [clock(p.at) for p in reversed(points)]
    assert column(model, Col.STATE) == [
        "Up (registered)",
        "Down (unregistered)",
        "Up (registered)",
        "Down (unregistered)",
        "Up (registered)",
        "Down (expired)",
        "Up (registered)",
    ]
    assert column(model, Col.CONTACT)[:3] == [DESK, HOME, HOME]
    assert column(model, Col.USER_AGENT)[1] == "Yealink SIP-T46S 66.86.0.20"
    assert model.headerData(Col.USER_AGENT, Qt.Orientation.Horizontal) == "User agent"
    qtmodeltester.check(model)


def test_an_up_from_a_new_contact_is_marked(history: RegistrationHistory) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    model = history.model

    # newest first: desk again (after home), home (after desk), ..., the first up (no before)
    assert column(model, Col.CONTACT, NEW_CONTACT_ROLE) == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    bold = model.index(0, Col.CONTACT).data(Qt.ItemDataRole.FontRole)
    assert isinstance(bold, QFont) and bold.bold()
    assert model.index(4, Col.CONTACT).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(0, Col.CONTACT).data(Qt.ItemDataRole.ForegroundRole) == QColor(
        tone("warning")
    )
    assert f"it was {HOME}" in model.index(0, Col.CONTACT).data(Qt.ItemDataRole.ToolTipRole)


def test_the_timeline_cuts_the_window_at_each_point(history: RegistrationHistory) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    timeline = history.timeline

    assert timeline.visible_window() == (now - 3600, now)
    before = timeline.segment_at(T0 + 60)
    up = timeline.segment_at(T0 + 10 * 60)
    down = timeline.segment_at(T0 + 22 * 60)
    last = timeline.segment_at(now - 1)
    assert before is not None and before.state == UNKNOWN and before.point is None
    assert up is not None and up.state == UP and up.point == points[0]
    assert (up.start, up.end) == (T0 + 131, T0 + 20 * 60)
    assert down is not None and down.state == DOWN and down.point is not None
    assert down.point.why == "expired"
    assert last is not None and last.state == UP and last.new_contact
    assert timeline.segment_at(now + 60) is None


def test_a_segment_tooltip_tells_since_when_and_from_where(
    history: RegistrationHistory,
) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    timeline = history.timeline
    y = timeline.height() // 3

    def tip(at: float) -> str:
        return timeline.tooltip_at(QPoint(round(timeline.x_of(at)), y))

    first_up = f"up since {clock(T0 + 131)} from {DESK} ({YEALINK})"
    assert clock(T0 + 131) == "14:02:11"
    assert tip(T0 + 10 * 60) == f"{first_up}, until {clock(T0 + 20 * 60)}"
    assert tip(T0 + 22 * 60) == f"down since {clock(T0 + 20 * 60)} (expired), until 14:25:00"
    assert tip(now - 30) == f"up since 14:50:03 from {DESK} ({YEALINK}), a new contact"
    assert tip(T0 + 60) == f"no registration seen before {clock(T0 + 131)}"
    assert timeline.tooltip_at(QPoint(10, timeline.height() - 1)) == ""  # the time labels


def test_the_band_tells_dropped_from_unregistered(history: RegistrationHistory) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    timeline = history.timeline
    image = timeline.grab().toImage()
    middle = timeline.band_rect().center().y()

    def fill(at: float) -> str:
        return image.pixelColor(round(timeline.x_of(at)), middle).name()

    assert fill(T0 + 10 * 60) == tone("timeline-up")
    assert fill(T0 + 22 * 60) == tone("timeline-down")  # expired
    assert fill(T0 + 42 * 60) == tone("timeline-off")  # unregistered by hand
    assert fill(T0 - 60) == tone("timeline-unknown")
    model = history.model
    states = column(model, Col.STATE, Qt.ItemDataRole.ForegroundRole)
    assert states[5] == QColor(tone("error"))  # expired
    assert states[3] is None  # unregistered: the plain text colour


def test_the_span_widens_the_window(history: RegistrationHistory) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    assert history.span_box.currentText() == "1 h"

    history.set_span(600.0)
    assert history.timeline.visible_window() == (now - 600, now)
    assert [s.state for s in history.timeline.segments()] == [UP, DOWN, UP]  # from 14:45

    history.span_box.setCurrentIndex(history.span_box.findText("24 h"))
    assert history.timeline.visible_window() == (now - 24 * 3600, now)
    assert history.timeline.segments()[0].state == UNKNOWN
    assert history.timeline.segments()[0].start == now - 24 * 3600


def test_time_moves_the_window_on(history: RegistrationHistory) -> None:
    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)

    history.set_now(now + 7200)

    assert history.timeline.visible_window() == (now + 3600, now + 7200)
    assert [s.state for s in history.timeline.segments()] == [UP]


def test_segments_hold_each_state_until_the_next_point() -> None:
    points = [
        HistoryPoint(100.0, True, DESK, YEALINK, "registered"),
        HistoryPoint(200.0, False, DESK, YEALINK, "expired"),
    ]

    cut = segments(points, 50.0, 300.0)

    assert [(s.start, s.end, s.state) for s in cut] == [
        (50.0, 100.0, UNKNOWN),
        (100.0, 200.0, UP),
        (200.0, 300.0, DOWN),
    ]
    assert [(s.start, s.end, s.state) for s in segments(points, 150.0, 180.0)] == [
        (150.0, 180.0, UP)
    ]


def test_the_status_says_what_the_device_is_now(history: RegistrationHistory) -> None:
    points, now = flapping_phone()

    history.set_points(points, now, registered_now=True)
    assert history.status.text() == "Up since 14:50:03"
    history.set_points(points[:-1], now, registered_now=False)
    assert history.status.text() == "Down since 14:50:00 (unregistered)"
    history.set_points(points[:-1], now, registered_now=True)  # the server's word, not ours
    assert history.status.text() == "Registered now"


def test_no_points_show_the_empty_state(history: RegistrationHistory) -> None:
    history.set_points([], T0, registered_now=False)

    assert history.empty.isVisible() and not history.table.isVisible()
    assert history.empty.text() == EMPTY_TEXT
    assert [s.state for s in history.timeline.segments()] == [UNKNOWN]
    assert history.status.text() == "Not registered now"

    points, now = flapping_phone()
    history.set_points(points, now, registered_now=True)
    assert history.table.isVisible() and not history.empty.isVisible()

    history.clear()
    assert history.model.rowCount() == 0
    assert history.empty.isVisible() and history.status.text() == ""
    assert history.timeline.segments() == []


def test_the_timeline_colours_stand_out(scheme: str, history: RegistrationHistory) -> None:
    base = history.palette().color(history.palette().ColorRole.Base)
    for name in ("timeline-up", "timeline-down", "timeline-off"):
        assert contrast(QColor(tone(name, history.palette())), base) >= 3.0, name


def test_screenshots(scheme: str, qtbot: Any) -> None:
    points, now = flapping_phone()
    for width, name in ((440, "registration_history"), (300, "registration_history_narrow")):
        history = RegistrationHistory()
        qtbot.addWidget(history)
        history.resize(width, 300)
        history.show()
        history.set_points(points, now, registered_now=True)
        laid_out(qtbot, history, history.table)
        screenshot(history, f"{name}_{scheme}")
    empty = RegistrationHistory()
    qtbot.addWidget(empty)
    empty.resize(440, 200)
    empty.show()
    empty.set_points([], now, registered_now=False)
    laid_out(qtbot, empty, empty.empty)
    screenshot(empty, f"registration_history_empty_{scheme}")


def laid_out(qtbot: Any, widget: QWidget, bottom: QWidget) -> None:
    """Once the layout has given `bottom` (what a change showed) the rest of the height."""
    qtbot.waitUntil(lambda: bottom.geometry().bottom() == widget.height() - 1)
