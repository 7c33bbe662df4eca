"""Connect a phone…: the demo registrar's settings for a real phone, checked by registering with
exactly what the dialog shows."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from helpers_ui import open_dialog, screenshot
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtNetwork import QAbstractSocket, QNetworkInterface
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QToolButton

from helpers import Api, Server, own_server_fixture, sip_register
from kazoodesk.ui.dialogs.connect_phone import (
    ConnectPhoneDialog,
    LocalAddress,
    Registrar,
    connect_phone,
    phone_devices,
    ranked,
)
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.session import Session
from kazoodesk.ui.tasks import spawn
from kazoodesk.ui.theme import tone

server = own_server_fixture("connect-phone-store")

RECEPTION = "6c932151018288f73f7e3b2acab2a6c0"
ALICE_SOFTPHONE = "64fdad23a8f05a323aed8680b4d25e05"
LEGACY_BY_IP = "d6ee23a6facdb726a150be254eb99b4d"
RETIRED = "9e7cb5e03e8ff7e2216a4eb14e07585c"
PHONES = [(RECEPTION, "Reception – Yealink T54W"), (ALICE_SOFTPHONE, "Alice's Softphone")]
FIELDS = ("address", "port", "transport", "realm", "username", "password")


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    with Api.logged_in(server) as client:
        yield client


def sip_of(api: Api, device_id: str) -> dict[str, Any]:
    sip: dict[str, Any] = api.ok("GET", f"{api.account}/devices/{device_id}")["data"]["sip"]
    return sip


def registered(api: Api) -> set[str]:
    return {row["username"] for row in api.ok("GET", f"{api.account}/registrations")["data"]}


def register_at(
    server: Server, address: str, port: str, username: str, password: str, realm: str
) -> int:
    """`sip_register` sent to `address`:`port` (as a phone given them would) instead of the
    server's own READY endpoint."""
    target = Server(server.runner, {**server.ready, "sip": f"udp:{address}:{port}"})
    return sip_register(target, username, password, realm, user_agent="Linphone (test)")


def open_phone(
    qtbot: Any,
    window: MainWindow,
    devices: list[tuple[str, str]] = PHONES,
    chosen: str | None = None,
    session: Session | None = None,
) -> tuple[ConnectPhoneDialog, asyncio.Task[Any]]:
    assert window.session is not None
    job = spawn(connect_phone(window, session or window.session, devices, chosen))
    dialog = open_dialog(qtbot, ConnectPhoneDialog)
    wait_loaded(qtbot, dialog)
    return dialog, job


def wait_loaded(qtbot: Any, dialog: ConnectPhoneDialog) -> None:
    qtbot.waitUntil(lambda: dialog.copy_all.isEnabled() or dialog.message.isVisible())


def close(qtbot: Any, dialog: ConnectPhoneDialog, job: asyncio.Task[Any]) -> None:
    dialog.reject()
    qtbot.waitUntil(job.done)
    assert job.result() is None


def field(dialog: ConnectPhoneDialog, name: str) -> QLineEdit:
    edit = dialog.findChild(QLineEdit, f"phone.{name}")
    assert edit is not None, name
    return edit


def click(qtbot: Any, dialog: ConnectPhoneDialog, name: str) -> None:
    button = dialog.findChild(QToolButton, name)
    assert button is not None, name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def credentials_shown(dialog: ConnectPhoneDialog) -> bool:
    return all(dialog.form.isRowVisible(field(dialog, n).parentWidget()) for n in FIELDS)


def test_a_phone_registers_with_exactly_the_settings_shown(
    qtbot: Any, window: MainWindow, server: Server, api: Api
) -> None:
    dialog, job = open_phone(qtbot, window, chosen=RECEPTION)
    shown = {name: field(dialog, name).text() for name in FIELDS}
    screenshot(dialog, "connect-phone")

    sip = sip_of(api, RECEPTION)
    assert (shown["username"], shown["password"]) == (sip["username"], sip["password"])
    assert shown["realm"] == api.ok("GET", api.account)["data"]["realm"]
    assert shown["transport"].startswith("UDP (or TCP")
    assert shown["username"] not in registered(api)

    status = register_at(server, shown["address"], shown["port"], *[
        shown[n] for n in ("username", "password", "realm")
    ])  # fmt: skip

    assert status == 200
    assert shown["username"] in registered(api)
    close(qtbot, dialog, job)


def test_copy_buttons_copy_the_values_and_the_password_is_masked_until_shown(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    dialog, job = open_phone(qtbot, window)
    clipboard = QGuiApplication.clipboard()
    password = sip_of(api, RECEPTION)["password"]
    assert field(dialog, "password").echoMode() == QLineEdit.EchoMode.Password
    assert password not in field(dialog, "password").displayText()

    for name in FIELDS:
        click(qtbot, dialog, f"phone.{name}.copy")
        assert clipboard.text() == field(dialog, name).text() != ""
    assert clipboard.text() == password  # the real one, though masked

    click(qtbot, dialog, "phone.password.show")
    assert field(dialog, "password").displayText() == password
    click(qtbot, dialog, "phone.password.show")
    assert field(dialog, "password").displayText() != password

    qtbot.mouseClick(dialog.copy_all, Qt.MouseButton.LeftButton)
    text = clipboard.text()
    for line in (
        f"Server (registrar, outbound proxy): {field(dialog, 'address').text()}",
        f"Port: {field(dialog, 'port').text()}",
        f"Domain (realm): {field(dialog, 'realm').text()}",
        f"Username: {field(dialog, 'username').text()}",
        f"Password: {password}",
    ):
        assert line in text.splitlines()
    close(qtbot, dialog, job)


def test_choosing_another_device_shows_its_credentials(
    qtbot: Any, window: MainWindow, api: Api
) -> None:
    dialog, job = open_phone(qtbot, window, chosen=RECEPTION)
    combo = dialog.findChild(QComboBox, "phone.device")
    assert combo is not None and combo.currentData() == RECEPTION

    combo.setCurrentIndex(combo.findData(ALICE_SOFTPHONE))
    sip = sip_of(api, ALICE_SOFTPHONE)
    qtbot.waitUntil(lambda: field(dialog, "username").text() == sip["username"])

    assert field(dialog, "password").text() == sip["password"]
    close(qtbot, dialog, job)


@pytest.mark.parametrize(
    ("device_id", "expected"),
    [(LEGACY_BY_IP, "authenticates by its IP address"), (RETIRED, "is disabled")],
)
def test_a_device_that_cannot_register_gets_a_message_instead_of_credentials(
    qtbot: Any, window: MainWindow, device_id: str, expected: str
) -> None:
    dialog, job = open_phone(qtbot, window, chosen=device_id)

    assert expected in dialog.message.text()
    assert not credentials_shown(dialog) and not dialog.copy_all.isEnabled()
    assert field(dialog, "password").text() == ""
    assert dialog.device.currentData() == device_id
    assert dialog.device.currentText() != device_id  # named from the device read

    dialog.device.setCurrentIndex(dialog.device.findData(RECEPTION))
    qtbot.waitUntil(dialog.copy_all.isEnabled)
    assert credentials_shown(dialog) and not dialog.message.isVisible()
    close(qtbot, dialog, job)


def test_an_error_reading_the_device_is_shown_in_the_dialog(qtbot: Any, window: MainWindow) -> None:
    dialog, job = open_phone(qtbot, window, chosen="0" * 32)

    assert dialog.message.text().startswith("Could not read the device")
    assert tone("error") in dialog.message.styleSheet()
    assert not job.done()
    close(qtbot, dialog, job)


def test_a_registrar_on_loopback_says_how_to_reach_it_from_the_network(
    qtbot: Any, window: MainWindow, server: Server
) -> None:
    assert window.session is not None and window.session.server_info["sip"] == server.ready["sip"]
    dialog, job = open_phone(qtbot, window)

    assert dialog.findChild(QComboBox, "phone.network") is None
    assert field(dialog, "address").text() == "127.0.0.1"
    assert "--sip-host 0.0.0.0" in dialog.note.text() and "(127.0.0.1)" in dialog.note.text()
    close(qtbot, dialog, job)


def running_ipv4() -> set[str]:
    """The IPv4 addresses of this machine's running interfaces, loopback and link-local aside."""
    flag = QNetworkInterface.InterfaceFlag
    found = set()
    for interface in QNetworkInterface.allInterfaces():
        if interface.flags() & flag.IsRunning and not interface.flags() & flag.IsLoopBack:
            for entry in interface.addressEntries():
                ip = entry.ip()
                if ip.protocol() == QAbstractSocket.NetworkLayerProtocol.IPv4Protocol:
                    found.add(ip.toString())
    return {a for a in found if not ipaddress.ip_address(a).is_link_local}


def test_a_registrar_on_every_interface_offers_their_addresses_and_warns(
    qtbot: Any, window: MainWindow, server: Server
) -> None:
    assert window.session is not None
    wide = {**server.ready, "sip_host": "0.0.0.0"}
    session = Session(window.session.client, label="wide", server_info=wide)
    dialog, job = open_phone(qtbot, window, session=session)
    network = dialog.findChild(QComboBox, "phone.network")
    assert network is not None
    offered = [network.itemData(i) for i in range(network.count())]

    if running_ipv4():
        assert set(offered) == running_ipv4()
    else:
        assert offered == ["127.0.0.1"]
    assert field(dialog, "address").text() == offered[0]
    network.setCurrentIndex(network.count() - 1)
    assert field(dialog, "address").text() == offered[-1]
    assert "passwords are public" in dialog.note.text()
    assert tone("warning") in dialog.note.styleSheet()
    screenshot(dialog, "connect-phone-network")
    close(qtbot, dialog, job)


def test_a_remote_kazoo_gets_a_message_instead(qtbot: Any, window: MainWindow) -> None:
    assert window.session is not None
    remote = Session(window.session.client, label="remote")
    job = spawn(connect_phone(window, remote, PHONES))

    box = open_dialog(qtbot, QMessageBox)
    assert "offline demo" in box.text()
    box.accept()
    qtbot.waitUntil(job.done)
    assert not [w for w in window.findChildren(ConnectPhoneDialog) if w.isVisible()]


def test_addresses_are_ranked_lan_first_and_link_local_left_out() -> None:
    candidates = [
        LocalAddress("2001:db8::5", "eth0"),
        LocalAddress("172.17.0.1", "docker0", virtual=True),
        LocalAddress("81.2.69.160", "eth1"),
        LocalAddress("169.254.3.4", "eth2"),
        LocalAddress("fe80::1%eth0", "eth0"),
        LocalAddress("192.168.1.20", "wlan0"),
    ]

    assert [c.address for c in ranked(candidates, ipv6=False)] == [
        "192.168.1.20",
        "81.2.69.160",
        "172.17.0.1",
    ]
    assert [c.address for c in ranked(candidates, ipv6=True)][-1] == "2001:db8::5"


def test_registrar_of_ready_info() -> None:
    ready = {"sip": "udp:127.0.0.1:5070", "sip_tcp": "tcp:127.0.0.1:5071"}
    assert Registrar.of({}) is None
    local = Registrar.of(ready)
    assert local is not None and local.loopback_only and local.port == 5070
    assert local.transport == "UDP (or TCP on port 5071)"
    wide = Registrar.of({**ready, "sip_host": "::"})
    assert wide is not None and wide.wildcard and not wide.loopback_only
    lan = Registrar.of({"sip": "udp:[fd00::2]:5060", "sip_tcp": "tcp:[fd00::2]:5060"})
    assert lan is not None and (lan.host, lan.transport) == ("fd00::2", "UDP (or TCP)")
    assert not lan.wildcard and not lan.loopback_only


def test_phone_devices_of_the_listing_are_those_registering_with_a_password(api: Api) -> None:
    rows = api.ok("GET", f"{api.account}/devices?paginate=false")["data"]

    ids = {device_id for device_id, _name in phone_devices(rows)}

    assert RECEPTION in ids and ALICE_SOFTPHONE in ids
    assert LEGACY_BY_IP not in ids and RETIRED not in ids
    assert len(ids) == 23  # resources/demo/README.md: 23 enabled devices with a SIP password
