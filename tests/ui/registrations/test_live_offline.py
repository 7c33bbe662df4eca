"""The window when the server it follows goes away: the registration panel's indicator and the
status bar say "offline", and the device list keeps what it showed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from helpers_ui import screenshot
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPalette

from helpers import Api, Server, own_server, sip_register
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.registrations.live import LiveRegistrations
from kazoodesk.ui.registrations.registration_model import Col

WAIT_MS = 15_000


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of the test's own: the test stops it (stopping twice is harmless)."""
    with own_server(tmp_path_factory, "live-offline") as own:
        yield own


def live_of(window: MainWindow) -> LiveRegistrations:
    assert window.live is not None
    return window.live


def panel_usernames(window: MainWindow) -> set[str]:
    model = live_of(window).model
    return {str(model.index(row, Col.USERNAME).data()) for row in range(model.rowCount())}


def test_a_server_going_away_shows_offline_and_the_list_stays(
    qtbot: Any, window: MainWindow, server: Server
) -> None:
    live = live_of(window)
    qtbot.waitUntil(lambda: live.feed is not None and live.feed.live, timeout=WAIT_MS)
    panel = live.panel
    assert panel.source_label.text() == "● Live"
    assert window.registrations_label.text() == "Registrations: live"

    # a phone registered, so the panel has a row to keep showing
    username, password = f"offline_{secrets.token_hex(4)}", "Offline-Pass-123"
    with Api.logged_in(server) as api:
        device = {"name": "Offline Desk", "sip": {"username": username, "password": password}}
        device_id = api.ok("PUT", f"{api.account}/devices", device)["data"]["id"]
        realm = api.ok("GET", api.account)["data"]["realm"]
    model = window.devices.model
    qtbot.waitUntil(lambda: model.row_for_id(device_id) >= 0, timeout=WAIT_MS)
    assert sip_register(server, username, password, realm) == 200
    qtbot.waitUntil(lambda: username in panel_usernames(window), timeout=WAIT_MS)
    listed = {row["id"] for row in model.rows()}
    shown = model.rowCount()
    assert device_id in listed and shown == len(listed)

    server.runner.stop_thread()
    qtbot.waitUntil(lambda: panel.source_label.text() == "● Offline", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: window.registrations_label.text() == "Registrations: offline", timeout=WAIT_MS
    )
    assert "127.0.0.1" in window.registrations_label.toolTip()  # which server is away
    assert live.feed is not None and not live.feed.live
    # the list keeps its rows: nothing is dropped for the server being away
    assert model.rowCount() == shown
    assert {row["id"] for row in model.rows()} == listed
    assert model.row_for_id(device_id) >= 0
    # the panel keeps the last known registrations, greyed while nothing confirms them
    table = live.model
    assert table.stale and table.rowCount() >= 1
    disabled = window.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert table.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) == disabled

    window.resize(1200, 800)
    qtbot.wait(50)
    path = screenshot(panel, "registrations-panel-offline")
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 0 and image.height() > 0
