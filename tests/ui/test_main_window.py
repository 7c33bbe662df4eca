"""The main window against a real simulator: start, list, accounts, actions, connection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import RunningDemo, open_dialog, screenshot
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from helpers import Api, Server, own_server, own_server_fixture
from kazoodesk.device_templates import listing_row
from kazoodesk.profiles import Profile, ProfileStore
from kazoodesk.resources import resource_path
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner
from kazoodesk.ui import device_actions
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.dialogs.device_dialogs import NotifyDialog, QuickcallDialog
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.registrations.outcomes import ActionOutcomes
from kazoodesk.ui.session import ConnectionState
from kazoodesk.ui.tasks import spawn

server = own_server_fixture("window-store")
DEMO_DEVICES = len(
    next(
        a
        for a in json.loads(resource_path("demo/demo.json").read_text())["accounts"]
        if a["name"] == "Demo Co"
    )["devices"]
)


def names(window: MainWindow) -> list[str]:
    model = window.devices.model
    return [str(model.index(row, Column.NAME).data()) for row in range(model.rowCount())]


def test_demo_start_lists_the_demo_company_devices(window: MainWindow, server: Server) -> None:
    assert window.devices.model.rowCount() == DEMO_DEVICES
    assert window.session is not None and window.session.state is ConnectionState.CONNECTED
    assert "Connected" in window.connection_label.text()
    assert window.accounts.count() == 1 and window.accounts.currentText().strip() == "Demo Co"
    with Api.logged_in(server) as api:
        listed = {d["name"] for d in api.ok("GET", f"{api.account}/devices?paginate=false")["data"]}
    assert set(names(window)) == listed
    screenshot(window, "main_window")


def test_status_column_follows_the_server(window: MainWindow, server: Server) -> None:
    with Api.logged_in(server) as api:
        registered = api.ok("GET", f"{api.account}/devices/status")["data"]
    model = window.devices.model
    shown_registered = {
        model.device_id(model.index(row, 0))
        for row in range(model.rowCount())
        if model.index(row, Column.STATUS).data() == "Registered"
    }
    assert shown_registered == {d["device_id"] for d in registered}


def test_search_narrows_the_list(qtbot: Any, window: MainWindow) -> None:
    everything = names(window)
    target = everything[0]

    qtbot.keyClicks(window.devices.search, target)

    assert target in names(window)
    assert len(names(window)) < len(everything)


def test_switcher_lists_the_resellers_sub_accounts(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path
) -> None:
    window = MainWindow(ProfileStore(tmp_path))
    qtbot.addWidget(window)
    profile = Profile(server.api, "Acme Telecom", "reseller")

    assert run_async(window.connect_remote(profile, "Acme-Reseller-2024!"), timeout=30)

    accounts = [window.accounts.itemText(i).strip() for i in range(window.accounts.count())]
    assert accounts == ["Acme Telecom", "Demo Co"]  # Globex is not Acme's customer
    assert window.devices.model.rowCount() == 0  # the reseller itself has no devices
    assert ProfileStore(tmp_path).load() == [profile]  # remembered, without the password
    assert "Acme-Reseller-2024!" not in (tmp_path / "profiles.json").read_text()

    with qtbot.waitSignal(window.devicesLoaded, timeout=20_000):
        window.accounts.setCurrentIndex(
            window.accounts.findText("Demo Co", flags=Qt.MatchFlag.MatchContains)
        )
        window.accounts.activated.emit(window.accounts.currentIndex())

    assert window.devices.model.rowCount() == DEMO_DEVICES
    run_async(window.session.close())  # type: ignore[union-attr]


def test_wrong_password_says_why_and_stays_disconnected(
    qtbot: Any, qloop: Any, server: Server, tmp_path: Path
) -> None:
    window = MainWindow(ProfileStore(tmp_path))
    qtbot.addWidget(window)
    profile = Profile(server.api, "Demo Co", "admin")

    job = spawn(window.connect_remote(profile, "wrong-password"))
    box = open_dialog(qtbot, QMessageBox)
    assert "invalid credentials" in box.text().lower()
    box.accept()
    qtbot.waitUntil(job.done)
    assert job.result() is False
    assert window.session is None
    assert "Offline" in window.connection_label.text()


def test_enable_disable_and_sync_act_on_every_selected_device(
    qtbot: Any, run_async: Any, window: MainWindow, server: Server
) -> None:
    model = window.devices.model
    ids = [model.device_id(model.index(row, 0)) for row in range(3)]
    window.devices.select_ids(ids)

    run_async(device_actions.set_enabled(window, window.devices.selected_ids(), False))

    with Api.logged_in(server) as api:
        for device_id in ids:
            assert api.ok("GET", f"{api.account}/devices/{device_id}")["data"]["enabled"] is False
    assert all(
        model.device_row(device_id)["enabled"] is False  # type: ignore[index]
        for device_id in ids
    )
    run_async(device_actions.set_enabled(window, ids, True))
    assert "3 of 3 done" in window.statusBar().currentMessage()


def test_notify_and_quickcall_dialogs_check_their_input(qtbot: Any, window: MainWindow) -> None:
    notify = NotifyDialog(["Desk"], window)
    qtbot.addWidget(notify)
    notify.body.setPlainText("<xml/>")
    notify._ok()
    assert "content type" in notify.problem.text()

    call = QuickcallDialog("Desk", window)
    qtbot.addWidget(call)
    call.number.setText("call me maybe")
    call._ok()
    assert "Not a number" in call.problem.text()


def test_server_going_away_is_shown_and_recovers(
    qtbot: Any, run_async: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with own_server(tmp_path_factory, "vanishing-store") as vanishing:
        window = MainWindow(ProfileStore(tmp_path), RunningDemo(vanishing))
        qtbot.addWidget(window)
        assert run_async(window.start_demo(), timeout=30)
        session = window.session
        assert session is not None
        vanishing.runner.stop_thread()

        run_async(window.reload(), timeout=30)

        assert session.state is ConnectionState.RECONNECTING
        assert "Reconnecting" in window.connection_label.text()
        assert window.devices.model.rowCount() == DEMO_DEVICES  # what was listed stays

        port = int(vanishing.api.rsplit(":", 1)[1].split("/")[0])
        back = SimulatorRunner(
            ServeOptions(
                data_dir=vanishing.runner.options.data_dir, port=port, sip_port=0, ws_port=0
            )
        )
        with qtbot.waitSignal(window.devicesLoaded, timeout=30_000):
            back.start_in_thread()
        try:
            assert session.state is ConnectionState.CONNECTED
            assert "Connected" in window.connection_label.text()
            assert window.devices.model.rowCount() == DEMO_DEVICES
        finally:
            run_async(session.close())
            back.stop_thread()


def test_owner_filter_shows_owned_and_hotdesked_devices(qtbot: Any, window: MainWindow) -> None:
    combo = window.devices.owner_combo
    emma = next(i for i in range(combo.count()) if combo.itemText(i).startswith("Emma"))

    combo.setCurrentIndex(emma)

    qtbot.waitUntil(lambda: any("Bob's Desk" in name for name in names(window)))
    shown = names(window)
    assert all("Emma" in name or "Bob's Desk" in name for name in shown), shown
    model = window.devices.model
    bobs_desk = next(r for r in range(model.rowCount()) if "Bob's Desk" in names(window)[r])
    assert "hotdesk" in str(model.index(bobs_desk, Column.OWNER).data()).lower()


def test_keyboard_shortcuts(qtbot: Any, window: MainWindow) -> None:
    window.activateWindow()
    window.devices.table.setFocus()
    qtbot.waitUntil(window.devices.table.hasFocus)

    qtbot.keyClick(window.devices.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.devices.search.hasFocus()

    model = window.devices.model
    first = model.device_id(model.index(0, 0))
    window.devices.select_ids([first])
    window.devices.table.setFocus()
    with qtbot.waitSignal(window.devices.editRequested) as opened:
        qtbot.keyClick(window.devices.table, Qt.Key.Key_Return)
    assert opened.args == [first]
    qtbot.waitUntil(lambda: window.editor is not None and window.editor.device_id == first)

    with qtbot.waitSignal(window.devicesLoaded, timeout=20_000):
        qtbot.keyClick(window.devices.table, Qt.Key.Key_F5)

    qtbot.keyClick(window.devices.table, Qt.Key.Key_Delete)
    box = open_dialog(qtbot, QMessageBox)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert model.device_row(first) is not None

    window.activateWindow()
    window.devices.table.setFocus()
    qtbot.waitUntil(window.devices.table.hasFocus)
    qtbot.keyClick(window.devices.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.new_menu.isVisible)
    window.new_menu.close()


def test_sync_notify_and_quickcall_report_each_device(
    qtbot: Any, run_async: Any, window: MainWindow
) -> None:
    model = window.devices.model
    ids = [model.device_id(model.index(row, 0)) for row in range(2)]
    first = str(model.device_row(ids[0])["name"])  # type: ignore[index]

    run_async(device_actions.sync(window, ids, True))
    assert window.statusBar().currentMessage() == "Reboot: 2 of 2 done"
    outcome = open_dialog(qtbot, ActionOutcomes)
    assert [outcome.cell(row, 1) for row in range(2)] == ["sync request sent"] * 2
    outcome.close()

    job = spawn(device_actions.notify(window, ids[:1]))
    dialog = open_dialog(qtbot, NotifyDialog)
    dialog.event_box.setCurrentText("resync")
    dialog._ok()
    qtbot.waitUntil(job.done)
    assert window.statusBar().currentMessage() == "NOTIFY resync: 1 of 1 done"
    outcome = open_dialog(qtbot, ActionOutcomes)
    assert outcome.cell(0, 0) == first
    assert outcome.cell(0, 1) == "NOTIFY sent"
    outcome.close()

    job = spawn(device_actions.quickcall(window, ids[:1]))
    dialog = open_dialog(qtbot, QuickcallDialog)
    qtbot.keyClicks(dialog.number, "+1 415 555 0123")
    dialog._ok()
    qtbot.waitUntil(job.done)
    assert window.statusBar().currentMessage() == f"{first}: calling +14155550123"


def test_a_failed_action_says_why(qtbot: Any, window: MainWindow, server: Server) -> None:
    with Api.logged_in(server) as api:
        created = api.ok("PUT", f"{api.account}/devices", {"name": "Short-lived"})["data"]
        window.devices.model.upsert(listing_row(created))
        device_id = created["id"]
        api.ok("DELETE", f"{api.account}/devices/{device_id}")

    job = spawn(device_actions.set_enabled(window, [device_id], False))
    box = open_dialog(qtbot, QMessageBox)

    assert "failed" in box.text() and "not found" in box.text().lower()
    box.accept()
    qtbot.waitUntil(job.done)
