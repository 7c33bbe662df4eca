"""The live registration panel, event log and chart against a real simulator and real SIP
phones (throwaway UDP REGISTERs, and sipp answering NOTIFY): rows come and go with the
phones, the device list follows, actions reach the phones, polling gives the same table."""

from __future__ import annotations

import asyncio
import csv
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import RunningDemo, open_dialog, screenshot
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit

from helpers import Api, Server, own_server, own_server_fixture, sip_address, sip_register
from kazoodesk.live.tracker import Kind
from kazoodesk.profiles import ProfileStore
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.registrations.live import LiveRegistrations
from kazoodesk.ui.registrations.outcomes import ActionOutcomes
from kazoodesk.ui.registrations.registration_model import Col

server = own_server_fixture("live-registrations")
SIPP = shutil.which("sipp")
SCENARIOS = Path(__file__).resolve().parents[2] / "registrar" / "sipp"
WAIT_MS = 10_000


class Phone:
    """A device made through the API and a phone registering as it over real UDP."""

    def __init__(self, server: Server, api: Api, name: str) -> None:
        self.server = server
        self.username = f"live_{secrets.token_hex(4)}"
        self.password = "Live-Pass-123"
        device = {"name": name, "sip": {"username": self.username, "password": self.password}}
        self.device_id = api.ok("PUT", f"{api.account}/devices", device)["data"]["id"]
        self.realm = api.ok("GET", api.account)["data"]["realm"]
        self.port = 40000 + secrets.randbelow(20000)

    def contact(self, port: int | None = None) -> str:
        return f"<sip:{self.username}@127.0.0.1:{port or self.port}>"

    def register(self, expires: int = 300, port: int | None = None) -> None:
        status = sip_register(
            self.server, self.username, self.password, self.realm,
            expires=expires, contact=self.contact(port), user_agent="Live Test Phone 1.0",
        )  # fmt: skip
        assert status == 200


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    with Api.logged_in(server) as client:
        yield client


def live_of(window: MainWindow) -> LiveRegistrations:
    assert window.live is not None
    return window.live


def rows_of(window: MainWindow) -> dict[str, dict[str, str]]:
    """The panel's table as shown: SIP username -> column title -> text."""
    model = live_of(window).model
    shown: dict[str, dict[str, str]] = {}
    for row in range(model.rowCount()):
        cells = {c.name: str(model.index(row, c).data()) for c in Col}
        shown[cells["USERNAME"]] = cells
    return shown


def list_status(window: MainWindow, device_id: str) -> str:
    model = window.devices.model
    row = model.row_for_id(device_id)
    return str(model.index(row, Column.STATUS).data()) if row >= 0 else ""


def logged(window: MainWindow, device_id: str) -> list[tuple[Kind, str]]:
    model = live_of(window).log.model
    return [(e.kind, e.detail) for e in model.entries() if e.device_id == device_id]


def wait_feed(qtbot: Any, window: MainWindow, live: bool = True) -> LiveRegistrations:
    """The window's live registrations once its feed follows the registrar's events (or,
    `live` False, once it polls)."""

    def following() -> bool:
        feed = window.live.feed if window.live is not None else None
        return (
            feed is not None
            and feed.following_devices
            and feed.live == live
            and feed.source.value == ("live" if live else "polling")
        )

    qtbot.waitUntil(following, timeout=WAIT_MS)
    return live_of(window)


def test_a_phone_registers_shows_and_unregisters(qtbot: Any, window: MainWindow, api: Api) -> None:
    wait_feed(qtbot, window)
    assert live_of(window).panel.source_label.text() == "● Live"
    phone = Phone(window_server(window), api, "Live Desk 1")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) >= 0, timeout=WAIT_MS)

    phone.register()
    qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
    row = rows_of(window)[phone.username]
    assert row["DEVICE"] == "Live Desk 1"
    assert row["CONTACT"] == f"127.0.0.1:{phone.port}"
    assert (row["TRANSPORT"], row["USER_AGENT"]) == ("UDP", "Live Test Phone 1.0")
    assert row["EXPIRES"].startswith(("4:", "5:"))  # counting down from 5:00
    qtbot.waitUntil(lambda: list_status(window, phone.device_id) == "Registered", timeout=WAIT_MS)

    phone.register(expires=0)
    qtbot.waitUntil(lambda: phone.username not in rows_of(window), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: list_status(window, phone.device_id) == "Unregistered", timeout=WAIT_MS)
    kinds = [kind for kind, _ in logged(window, phone.device_id)]
    assert kinds == [Kind.REGISTERED, Kind.UNREGISTERED]


def test_a_phone_that_stops_refreshing_expires_from_the_table(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    wait_feed(qtbot, window)
    server = window_server(window)
    phone = Phone(server, api, "Live Desk Expiring")
    phone.register()
    qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)

    # the registrar's clock moves past the binding's expiry: its own sweep ends it
    sim, loop = server.runner.sim, server.runner._loop
    assert sim is not None and sim.registrar is not None and loop is not None
    loop.call_soon_threadsafe(sim.registrar.sweep, time.time() + 400)

    qtbot.waitUntil(lambda: phone.username not in rows_of(window), timeout=WAIT_MS)
    assert logged(window, phone.device_id)[-1][0] is Kind.EXPIRED
    qtbot.waitUntil(lambda: list_status(window, phone.device_id) == "Unregistered", timeout=WAIT_MS)


@pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) is not installed")
def test_sync_reaches_the_phone_and_the_log_shows_its_answer(
    qtbot: Any, window: MainWindow, api: Api, tmp_path: Path
) -> None:
    wait_feed(qtbot, window)
    server = window_server(window)
    phone = Phone(server, api, "Live Desk sipp")
    host, port = sip_address(server)
    sipp = subprocess.Popen(
        [
            str(SIPP), f"{host}:{port}", "-sf", str(SCENARIOS / "register_wait_notify.xml"),
            "-oocsf", str(SCENARIOS / "uas_notify.xml"), "-key", "domain", phone.realm,
            "-key", "expires", "300", "-s", phone.username, "-au", phone.username,
            "-ap", phone.password, "-i", "127.0.0.1", "-p", str(phone.port), "-m", "1",
            "-d", "1500", "-nostdin", "-trace_msg", "-timeout", "30s", "-timeout_error",
        ],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
        window.devices.select_ids([phone.device_id])
        window.sync_action.trigger()

        outcome = open_outcomes(qtbot)
        row = outcome.row_of(phone.device_id)
        assert row is not None
        qtbot.waitUntil(lambda: "answered" in outcome.cell(row, 2), timeout=WAIT_MS)
        assert "check-sync → 200" in outcome.cell(row, 2)
        assert outcome.cell(row, 1) == "sync request sent"
        qtbot.waitUntil(lambda: sipp.poll() is not None, timeout=20_000)
        output = sipp.stdout.read().decode(errors="replace") if sipp.stdout else ""
        assert sipp.returncode == 0, output
        received = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
        assert "Event: check-sync" in received
        entries = logged(window, phone.device_id)
        assert (Kind.ACTION, "Sync: sync request sent") in entries
        answers = [detail for kind, detail in entries if kind is Kind.NOTIFY_ANSWERED]
        assert answers and answers[0].startswith("check-sync → 200")
        screenshot(outcome, "action-outcomes")
        outcome.close()
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()


def test_flush_ends_the_registration_and_says_so(qtbot: Any, window: MainWindow, api: Api) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk Flushed")
    phone.register()
    qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
    panel = live_of(window).panel
    panel.select_device(phone.device_id)
    assert panel.selected_device_ids() == [phone.device_id]

    panel.actions_by_name["flush"].trigger()
    outcome = open_outcomes(qtbot)
    row = outcome.row_of(phone.device_id)
    assert row is not None
    qtbot.waitUntil(lambda: "flushed" in outcome.cell(row, 1), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: phone.username not in rows_of(window), timeout=WAIT_MS)
    kinds = [kind for kind, _ in logged(window, phone.device_id)]
    assert kinds[-2:] in ([Kind.ACTION, Kind.UNREGISTERED], [Kind.UNREGISTERED, Kind.ACTION])
    outcome.close()


def test_a_watched_device_going_offline_is_announced(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk Watched")
    phone.register()
    qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
    live = live_of(window)
    live.toggle_watch([phone.device_id])
    assert phone.device_id in live.watched

    with qtbot.waitSignal(live.deviceWentOffline, timeout=WAIT_MS) as signal:
        phone.register(expires=0)
    assert signal.args == [phone.device_id, "Live Desk Watched"]
    assert "Live Desk Watched is no longer registered" in window.statusBar().currentMessage()


def test_a_device_moving_contacts_is_flagged_as_flapping(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk Flapping")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) >= 0, timeout=WAIT_MS)
    for step in range(5):  # registered from a new contact, each ending the last
        phone.register(port=phone.port + step)
        phone.register(expires=0, port=phone.port + step)
    qtbot.waitUntil(lambda: "flapping" in list_status(window, phone.device_id), timeout=WAIT_MS)
    assert phone.device_id in live_of(window).tracker.flapping
    phone.register()
    qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
    assert rows_of(window)[phone.username]["DEVICE"].startswith("⚠")


def test_the_csv_export_holds_what_the_log_shows(
    qtbot: Any, window: MainWindow, api: Api, tmp_path: Path
) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, 'Live Desk, "CSV" ñ')
    phone.register()
    phone.register(expires=0)
    qtbot.waitUntil(lambda: len(logged(window, phone.device_id)) == 2, timeout=WAIT_MS)
    log = live_of(window).log
    log.filter_edit.setText(phone.username)
    model = log.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=WAIT_MS)

    path = run_export(qtbot, window, tmp_path / "events.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    shown = [
        [str(model.index(row, column).data()) for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]
    horizontal = Qt.Orientation.Horizontal
    titles = [model.headerData(c, horizontal) for c in range(model.columnCount())]
    assert header == titles
    assert len(rows) == len(shown) == 2
    for written, cells in zip(rows, shown, strict=True):
        assert written[0].startswith(time.strftime("%Y-%m-%d"))
        assert written[0][11:19] == cells[0]  # the time shown, in full in the file
        assert written[1:] == cells[1:]
    assert rows[0][2] == 'Live Desk, "CSV" ñ'


def test_screenshots_of_the_panel_log_and_chart(qtbot: Any, window: MainWindow, api: Api) -> None:
    wait_feed(qtbot, window)
    phones = [Phone(window_server(window), api, f"Live Shot {n}") for n in range(3)]
    for phone in phones:
        phone.register()
    phones[0].register(expires=0)
    qtbot.waitUntil(lambda: phones[2].username in rows_of(window), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: phones[0].username not in rows_of(window), timeout=WAIT_MS)
    window.resize(1400, 900)
    live = live_of(window)
    assert screenshot(live.panel, "registrations-panel").stat().st_size > 0
    window.docks["event_log"].raise_()
    assert screenshot(live.log, "event-log-live").stat().st_size > 0
    assert screenshot(live.panel.chart, "activity-chart-live").stat().st_size > 0
    assert screenshot(window, "window-live").stat().st_size > 0


def test_a_device_changed_on_the_server_updates_the_list_and_warns_the_editor(
    qtbot: Any, window: MainWindow, api: Api, run_async: Any
) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk Edited")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) >= 0, timeout=WAIT_MS)
    editor = window.editor
    assert editor is not None
    assert run_async(editor.open_device(phone.device_id))

    # not being edited: the editor shows the new version and says why
    api.ok("PATCH", f"{api.account}/devices/{phone.device_id}", {"name": "Renamed Elsewhere"})
    qtbot.waitUntil(lambda: editor.title.text() == "Renamed Elsewhere", timeout=WAIT_MS)
    assert "changed on the server" in editor.message.text()
    qtbot.waitUntil(
        lambda: window.devices.model.device_name(phone.device_id) == "Renamed Elsewhere",
        timeout=WAIT_MS,
    )

    # being edited: the edits stay and a bar offers the server's version
    name = editor.form.findChild(QLineEdit, "name")
    assert name is not None
    name.setText("My Unsaved Name")
    assert editor.is_dirty()
    api.ok("PATCH", f"{api.account}/devices/{phone.device_id}", {"name": "Renamed Again"})
    qtbot.waitUntil(editor.server_notice.isVisible, timeout=WAIT_MS)
    assert name.text() == "My Unsaved Name"
    editor.reload_button.click()
    qtbot.waitUntil(lambda: editor.title.text() == "Renamed Again", timeout=WAIT_MS)
    assert not editor.server_notice.isVisible()

    api.ok("DELETE", f"{api.account}/devices/{phone.device_id}")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) < 0, timeout=WAIT_MS)
    qtbot.waitUntil(editor.server_notice.isVisible, timeout=WAIT_MS)
    assert "deleted on the server" in editor.server_notice_text.text()
    editor.clear()


def test_the_editor_side_panel_shows_the_device_history(
    qtbot: Any, window: MainWindow, api: Api, run_async: Any
) -> None:
    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk History")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) >= 0, timeout=WAIT_MS)
    editor = window.editor
    assert editor is not None and run_async(editor.open_device(phone.device_id))
    phone.register()
    phone.register(expires=0)
    phone.register(port=phone.port + 1)
    side = editor.side
    qtbot.waitUntil(lambda: "Registered" in side.now_label.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: side.history.table.model().rowCount() == 3, timeout=WAIT_MS)
    assert f"127.0.0.1:{phone.port + 1}" in side.now_label.text()
    window.resize(1400, 900)
    qtbot.wait(50)
    screenshot(editor, "editor-registration-side")


# ---- polling: a server without registration events, as a stock Kazoo 4.3 --------------------


@pytest.fixture
def polling_window(
    qtbot: Any, run_async: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MainWindow, Server]]:
    QSettings().setValue("registrations/poll_interval", 1)
    with own_server(tmp_path_factory, "polling-store", registration_events=False) as polled:
        window = MainWindow(ProfileStore(tmp_path), RunningDemo(polled))
        qtbot.addWidget(window)
        window.show()
        assert run_async(window.start_demo(), timeout=30)
        try:
            yield window, polled
        finally:
            QSettings().remove("registrations/poll_interval")
            if window.session is not None:
                run_async(window.session.close())


def test_polling_gives_the_same_table(
    qtbot: Any, polling_window: tuple[MainWindow, Server]
) -> None:
    window, polled = polling_window
    live = wait_feed(qtbot, window, live=False)
    assert live.panel.source_label.text() == "● Polling"
    with Api.logged_in(polled) as api:
        phone = Phone(polled, api, "Polled Desk")
        phone.register()
        qtbot.waitUntil(lambda: phone.username in rows_of(window), timeout=WAIT_MS)
        # named once the device's creation event has brought it into the list
        qtbot.waitUntil(
            lambda: rows_of(window)[phone.username]["DEVICE"] == "Polled Desk", timeout=WAIT_MS
        )
        row = rows_of(window)[phone.username]
        assert row["CONTACT"] == f"127.0.0.1:{phone.port}"
        assert (row["TRANSPORT"], row["USER_AGENT"]) == ("UDP", "Live Test Phone 1.0")
        qtbot.waitUntil(
            lambda: list_status(window, phone.device_id) == "Registered", timeout=WAIT_MS
        )
        server_rows = api.ok("GET", f"{api.account}/registrations")["data"]
        assert {r["username"] for r in server_rows} == set(rows_of(window))

        phone.register(expires=0)
        qtbot.waitUntil(lambda: phone.username not in rows_of(window), timeout=WAIT_MS)
        assert [k for k, _ in logged(window, phone.device_id)] == [
            Kind.REGISTERED,
            Kind.UNREGISTERED,
        ]
        assert live.feed is not None and not live.feed.live


# ---- helpers --------------------------------------------------------------------------------


def window_server(window: MainWindow) -> Server:
    demo = window.demo
    assert isinstance(demo, RunningDemo)
    return demo.server


def open_outcomes(qtbot: Any) -> ActionOutcomes:
    return open_dialog(qtbot, ActionOutcomes)


def run_export(qtbot: Any, window: MainWindow, path: Path) -> Path:
    task = asyncio.get_event_loop().create_task(live_of(window).log.export_csv(path))
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    written = task.result()
    assert written == path
    return path


def test_show_events_filters_the_log_to_the_device(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    live = wait_feed(qtbot, window)
    phones = [Phone(window_server(window), api, f"Live Events {n}") for n in range(2)]
    for phone in phones:
        phone.register()
    qtbot.waitUntil(lambda: all(p.username in rows_of(window) for p in phones), timeout=WAIT_MS)
    in_list = window.devices.model.row_for_id
    qtbot.waitUntil(lambda: in_list(phones[1].device_id) >= 0, timeout=WAIT_MS)
    window.devices.select_ids([phones[1].device_id])
    assert window.events_action.isEnabled()
    window.events_action.trigger()
    model = live.log.model
    assert model.rowCount() == 1
    assert model.entry_at(0).device_id == phones[1].device_id
    assert window.docks["event_log"].isVisible()
    live.log.set_device_filter(None)
    assert model.rowCount() >= 2


def test_the_polling_interval_is_set_in_the_panel_and_kept(
    qtbot: Any, polling_window: tuple[MainWindow, Server]
) -> None:
    window, _polled = polling_window
    live = wait_feed(qtbot, window, live=False)
    spin = live.panel.poll_interval
    assert spin.isVisible() and spin.value() == 1
    spin.setValue(7)
    assert live.feed is not None and live.feed.poll_interval == 7
    assert float(QSettings().value("registrations/poll_interval")) == 7


def test_connect_a_phone_opens_for_the_selected_device(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    from kazoodesk.ui.dialogs.connect_phone import ConnectPhoneDialog

    wait_feed(qtbot, window)
    phone = Phone(window_server(window), api, "Live Desk To Connect")
    qtbot.waitUntil(lambda: window.devices.model.row_for_id(phone.device_id) >= 0, timeout=WAIT_MS)
    window.devices.select_ids([phone.device_id])
    assert window.connect_phone_action.isEnabled()
    window.connect_phone_action.trigger()
    dialog = open_dialog(qtbot, ConnectPhoneDialog)
    assert dialog.device.currentData() == phone.device_id
    qtbot.waitUntil(lambda: dialog.username.text() == phone.username, timeout=WAIT_MS)
    dialog.close()
