"""The activity chart: the step value, the visible window, pixel columns that keep their spikes,
the hover text, the empty state. Screenshots: tests/output/activity_chart_*.png."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from helpers_ui import contrast, screenshot
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QToolTip

from kazoodesk.ui.registrations.activity_chart import (
    EMPTY_TEXT,
    MAX_SPAN_S,
    SESSION,
    ActivityChart,
    Column,
    clock,
    envelope,
    nice_ticks,
    time_ticks,
)
from kazoodesk.ui.theme import tone

# local midnight, so the day's hours read the same in any time zone
MIDNIGHT = time.mktime((2024, 5, 29, 0, 0, 0, 0, 0, -1))
HOUR = 3600.0
Samples = list[tuple[float, int]]


def add(samples: Samples, at: float, count: int) -> None:
    """A point as the tracker makes them: only on a change, at most one a second."""
    if samples and samples[-1][1] == count:
        return
    if samples and at - samples[-1][0] < 1.0:
        samples[-1] = (samples[-1][0], count)
    else:
        samples.append((at, count))


def office_day() -> Samples:
    """20 phones: they come in from 07:30, a few flap during the day, the network drops at
    13:12 for six minutes, most leave in the evening."""
    rng = random.Random(7)
    samples: Samples = []
    at, count = MIDNIGHT + 7.5 * HOUR, 0
    while count < 20:
        count += 1
        at += rng.uniform(60, 400)
        add(samples, at, count)
    outage = MIDNIGHT + 13.2 * HOUR
    while at < MIDNIGHT + 18 * HOUR:
        at += rng.uniform(300, 1800)
        if outage is not None and at >= outage:
            at = outage + rng.uniform(1, 5)  # most phones lose the registrar at once
            add(samples, at, 4)
            at += 360
            outage = None
        else:
            add(samples, at, 19)
            at += rng.uniform(1, 40)
        add(samples, at, 20)
    while count > 6:
        count -= 1
        at += rng.uniform(60, 600)
        add(samples, at, count)
    return samples


@pytest.fixture
def chart(qtbot: Any) -> ActivityChart:
    widget = ActivityChart()
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    widget.show()
    return widget


def is_line(colour: QColor, line: QColor) -> bool:
    return all(abs(a - b) < 60 for a, b in zip(colour.getRgb()[:3], line.getRgb()[:3], strict=True))


def line_rows(image: QImage, x: int, line: QColor) -> list[int]:
    """The rows of column `x` drawn in (about) the line's colour."""
    return [y for y in range(image.height()) if is_line(image.pixelColor(x, y), line)]


def test_the_value_holds_until_the_next_sample(chart: ActivityChart) -> None:
    chart.set_samples([(100.0, 1), (110.0, 3), (120.0, 2)])

    assert chart.value_at(99.9) is None
    assert chart.value_at(100.0) == 1
    assert chart.value_at(109.9) == 1
    assert chart.value_at(110.0) == 3
    assert chart.value_at(5000.0) == 2
    assert chart.current() == 2
    assert chart.accessibleDescription() == "2 registered"


def test_pixel_columns_keep_the_extremes_of_what_they_merge() -> None:
    times = [0.0, 12.0, 13.0, 14.0, 30.0]
    counts = [5, 9, 1, 5, 6]

    columns = envelope(times, counts, -10.0, 40.0, 5)  # ten seconds a column

    assert columns == [
        None,  # before the first sample
        Column(5, 5, 5, 5),
        Column(5, 1, 9, 5),  # the spike up and the drop, both kept
        Column(5, 5, 5, 5),
        Column(6, 6, 6, 6),
    ]


def test_a_one_second_spike_in_a_day_is_drawn(chart: ActivityChart) -> None:
    now = MIDNIGHT + 24 * HOUR
    spike = MIDNIGHT + 15 * HOUR + 17
    # a day of a count that changes every second: 86,400 samples
    day = [(MIDNIGHT + s, 20 + s % 2) for s in range(86_400)]
    day[int(spike - MIDNIGHT)] = (spike, 40)
    chart.set_samples(day)
    chart.set_now(now)
    chart.set_span(MAX_SPAN_S)

    top = chart.position_of(spike, 40)
    image = chart.grab().toImage()

    line = QColor(tone("chart-line", chart.palette()))
    rows = line_rows(image, int(top.x()), line)
    assert rows, "no line in the spike's column"
    assert abs(min(rows) - top.y()) <= 2
    assert chart.tooltip_at(top) == f"{clock(spike)} — 40 registered"


def test_the_span_picks_the_visible_window(chart: ActivityChart, qtbot: Any) -> None:
    now = MIDNIGHT + 20 * HOUR
    chart.set_samples(office_day())
    chart.set_now(now)
    first = office_day()[0][0]

    assert chart.span() is SESSION
    assert chart.visible_window() == (first, now)
    with qtbot.waitSignal(chart.spanChanged) as changed:
        chart.set_span(600.0)
    assert changed.args == [600.0]
    assert chart.visible_window() == (now - 600.0, now)
    assert chart.span_box.currentText() == "10 min"

    chart.span_box.setCurrentIndex(chart.span_box.findText("6 h"))
    assert chart.visible_window() == (now - 6 * HOUR, now)
    with pytest.raises(ValueError):
        chart.set_span(1234.0)


def test_the_session_span_is_at_most_a_day(chart: ActivityChart) -> None:
    now = MIDNIGHT + 30 * HOUR
    chart.set_samples([(MIDNIGHT, 1), (MIDNIGHT + 29 * HOUR, 2)])
    chart.set_now(now)

    assert chart.visible_window() == (now - MAX_SPAN_S, now)


def test_the_line_runs_on_to_now(chart: ActivityChart) -> None:
    chart.set_samples([(MIDNIGHT, 3)])
    chart.set_span(600.0)
    chart.set_now(MIDNIGHT + 5 * HOUR)  # hours after the last change

    plot = chart.plot_rect()
    spot = chart.position_of(MIDNIGHT + 5 * HOUR - 30, 3)

    assert chart.visible_window() == (MIDNIGHT + 5 * HOUR - 600, MIDNIGHT + 5 * HOUR)
    line = QColor(tone("chart-line", chart.palette()))
    rows = line_rows(chart.grab().toImage(), plot.right() - 2, line)
    assert any(abs(y - spot.y()) <= 1 for y in rows)


def test_the_hover_text_names_the_time_and_count_under_the_cursor(
    chart: ActivityChart,
) -> None:
    samples = [(MIDNIGHT + 9 * HOUR, 12), (MIDNIGHT + 9.5 * HOUR, 14)]
    chart.set_samples(samples)
    chart.set_span(HOUR)
    chart.set_now(MIDNIGHT + 10 * HOUR)

    on_the_step = chart.position_of(MIDNIGHT + 9.5 * HOUR, 14)
    later = chart.position_of(MIDNIGHT + 9.75 * HOUR, 14)
    start, _ = chart.visible_window()
    per_px = HOUR / chart.plot_rect().width()
    later_time = start + (later.x() - chart.plot_rect().left()) * per_px

    assert chart.tooltip_at(on_the_step) == f"{clock(MIDNIGHT + 9.5 * HOUR)} — 14 registered"
    assert chart.tooltip_at(later) == f"{clock(later_time)} — 14 registered"
    assert chart.tooltip_at(QPoint(2, 2)) == ""  # the header, not the plot


def test_a_tooltip_event_shows_the_hover_text(chart: ActivityChart) -> None:
    chart.set_samples([(MIDNIGHT + 9 * HOUR, 12)])
    chart.set_now(MIDNIGHT + 10 * HOUR)
    pos = chart.position_of(MIDNIGHT + 9.5 * HOUR, 12)

    QApplication.sendEvent(chart, QHelpEvent(QEvent.Type.ToolTip, pos, chart.mapToGlobal(pos)))

    assert QToolTip.text() == chart.tooltip_at(pos)
    assert QToolTip.text().endswith("— 12 registered")
    QToolTip.hideText()


def test_an_empty_chart_says_so(chart: ActivityChart) -> None:
    chart.set_now(MIDNIGHT)

    assert chart.current() is None
    assert chart.accessibleDescription() == EMPTY_TEXT
    assert chart.tooltip_at(chart.plot_rect().center()) == ""
    line = QColor(tone("chart-line", chart.palette()))
    image = chart.grab().toImage()
    assert not any(line_rows(image, x, line) for x in range(0, image.width(), 4))


def test_count_ticks_are_round_and_start_at_zero() -> None:
    assert nice_ticks(20, 5) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 5) == [0, 1]
    assert nice_ticks(7, 5) == [0, 2, 4, 6, 8]
    assert nice_ticks(1234, 4) == [0, 500, 1000, 1500]


def test_time_ticks_fall_on_round_clock_times() -> None:
    start = MIDNIGHT + 9 * HOUR + 7
    ticks, seconds = time_ticks(start, start + 10 * 60, 480, 35, 55)
    assert not seconds
    assert all(time.localtime(t).tm_sec == 0 for t in ticks)
    assert len(ticks) >= 3
    assert all(start <= t <= start + 600 for t in ticks)

    short, seconds = time_ticks(start, start + 60, 480, 35, 55)
    assert seconds
    assert {time.localtime(t).tm_sec % 5 for t in short} == {0}


def test_the_contrast_of_the_line(scheme: str, chart: ActivityChart) -> None:
    base = chart.palette().color(chart.palette().ColorRole.Base)
    line = QColor(tone("chart-line", chart.palette()))

    assert contrast(line, base) >= 3.0


@pytest.mark.parametrize("span", [SESSION, 600.0], ids=["day", "10min"])
def test_screenshots(scheme: str, qtbot: Any, span: float | None) -> None:
    chart = ActivityChart()
    qtbot.addWidget(chart)
    chart.resize(640, 200)
    chart.show()
    now = MIDNIGHT + 20 * HOUR if span is None else MIDNIGHT + 13.2 * HOUR + 540  # the outage
    chart.set_samples([(at, count) for at, count in office_day() if at <= now])
    chart.set_now(now)
    chart.set_span(span)

    name = "day" if span is None else "10min"
    screenshot(chart, f"activity_chart_{name}_{scheme}")
    empty = ActivityChart()
    qtbot.addWidget(empty)
    empty.resize(empty.sizeHint())
    screenshot(empty, f"activity_chart_empty_{scheme}")
