"""Connecting to a remote Kazoo: the Connect dialog, profiles, secrets only in the keyring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers_ui import open_dialog, screenshot

from helpers import MemoryKeyring, Server, own_server_fixture
from kazoodesk.profiles import Profile, ProfileStore, load_secret, store_secret
from kazoodesk.ui.app import GuiOptions, _connect
from kazoodesk.ui.dialogs.connect import ConnectDialog
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.tasks import spawn

PASSWORD = "DemoCo-Admin-2024"
server = own_server_fixture("connect-store")


def new_window(qtbot: Any, tmp_path: Path) -> MainWindow:
    window = MainWindow(ProfileStore(tmp_path))
    qtbot.addWidget(window)
    window.show()
    return window


def close(run_async: Any, window: MainWindow) -> None:
    if window.session is not None:
        run_async(window.session.close())


def test_connect_dialog_logs_in_and_keeps_the_secret_in_the_keyring(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    window = new_window(qtbot, tmp_path)
    job = spawn(window.connect_dialog())
    dialog = open_dialog(qtbot, ConnectDialog)
    qtbot.keyClicks(dialog.server, server.api)
    qtbot.keyClicks(dialog.account, "Demo Co")
    qtbot.keyClicks(dialog.username, "admin")
    qtbot.keyClicks(dialog.secret, PASSWORD)
    dialog.remember.setChecked(True)
    screenshot(dialog, "connect_dialog")

    dialog._ok()
    qtbot.waitUntil(job.done, timeout=20_000)

    assert job.result() is True
    assert window.devices.model.rowCount() > 0
    profile = Profile(server.api, "Demo Co", "admin")
    assert ProfileStore(tmp_path).load() == [profile]
    assert load_secret(profile) == PASSWORD
    assert PASSWORD not in (tmp_path / "profiles.json").read_text()
    close(run_async, window)

    again = new_window(qtbot, tmp_path)
    job = spawn(again.connect_dialog())
    dialog = open_dialog(qtbot, ConnectDialog)
    assert dialog.server.text() == server.api and dialog.secret.text() == PASSWORD
    dialog._ok()
    qtbot.waitUntil(job.done, timeout=20_000)
    assert job.result() is True
    close(run_async, again)


def test_the_dialog_checks_what_is_missing(
    qtbot: Any, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = ConnectDialog(ProfileStore(tmp_path))
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.server, "kazoo.example.com")
    dialog._ok()
    assert "http://" in dialog.problem.text()

    dialog.server.setText("https://kazoo.example.com/v2")
    dialog.by_key.setChecked(True)
    dialog._ok()
    assert "API key is required" in dialog.problem.text()
    assert not dialog.account.isEnabled()


def test_without_a_keyring_the_password_is_asked_each_time(
    qtbot: Any, tmp_path: Path, server: Server, no_keyring: None
) -> None:
    profile = Profile(server.api, "Demo Co", "admin")
    ProfileStore(tmp_path).remember(profile)
    assert not store_secret(profile, PASSWORD)
    dialog = ConnectDialog(ProfileStore(tmp_path))
    qtbot.addWidget(dialog)

    assert dialog.server.text() == server.api and dialog.secret.text() == ""
    assert not dialog.remember.isEnabled()
    assert "asked each time" in dialog.remember.text()


def test_command_line_server_with_a_known_secret_connects_directly(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store_secret(Profile(server.api, "Demo Co", "admin"), PASSWORD)
    window = new_window(qtbot, tmp_path)

    run_async(_connect(window, GuiOptions(server=server.api, account="Demo Co", user="admin")))

    assert window.session is not None and window.devices.model.rowCount() > 0
    close(run_async, window)


def test_command_line_api_key_connects(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path
) -> None:
    window = new_window(qtbot, tmp_path)
    options = GuiOptions(server=server.api, api_key=server.ready["api_key"])

    run_async(_connect(window, options))

    assert window.session is not None and window.devices.model.rowCount() > 0
    close(run_async, window)


def test_command_line_server_without_a_secret_asks_for_the_password(
    qtbot: Any, qloop: Any, server: Server, tmp_path: Path, no_keyring: None
) -> None:
    window = new_window(qtbot, tmp_path)
    job = spawn(_connect(window, GuiOptions(server=server.api, account="Demo Co", user="admin")))

    dialog = open_dialog(qtbot, ConnectDialog)
    assert dialog.account.text() == "Demo Co" and dialog.username.text() == "admin"
    assert dialog.secret.text() == ""
    dialog.reject()
    qtbot.waitUntil(job.done)
    assert window.session is None
