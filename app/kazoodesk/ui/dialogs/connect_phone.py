"""Connect a phone…: what a real softphone or desk phone needs to register with the demo.

The demo's registrar is a real one, so Linphone, Zoiper or a desk phone can register with it
and show up in the registrations. The dialog gives the registrar's address, port and transport,
the account's SIP domain and a device's SIP credentials, each with a copy button. The demo's
passwords ship with KazooDesk: a registrar reachable from the network says so.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtNetwork import QNetworkInterface
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.kazoo import KazooError
from kazoodesk.ui.dialogs.awaitable import inform
from kazoodesk.ui.session import Session
from kazoodesk.ui.tasks import spawn
from kazoodesk.ui.theme import tone

TITLE = "Connect a phone"
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
# Linux names of bridges and links of containers and VMs (their type says Ethernet)
VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "podman")

INTRO = (
    "Enter these settings in a softphone (Linphone, Zoiper) or a desk phone to register it as "
    "the device. The domain is not in DNS: give the server as the phone's proxy (outbound "
    "proxy) too."
)
REMOTE_TEXT = (
    "Connect a phone is a tool of the offline demo: it shows how to register a phone with the "
    "demo's own registrar. On a real Kazoo, phones register with the SIP servers of your "
    "Kazoo cluster; a device's SIP credentials are in its editor."
)
LOOPBACK_NOTE = (
    "The demo's registrar listens on this computer only ({host}). A softphone on this computer "
    "can register; to register a phone on your network, start KazooDesk with --sip-host 0.0.0.0."
)
PUBLIC_NOTE = (
    "The demo's SIP passwords are public (they ship with KazooDesk): anyone who can reach "
    "this computer can register as its devices. Use this on a network you trust."
)
WILDCARD_NOTE = (
    "The registrar listens on every network of this computer: pick the address your phone "
    "can reach. "
)


# ---- where the registrar listens --------------------------------------------------------------


def endpoint(text: str) -> tuple[str, int]:
    """`udp:127.0.0.1:5060` or `tcp:[::1]:5060` → (host, port); ValueError otherwise."""
    _scheme, _, rest = text.partition(":")
    host, _, port = rest.rpartition(":")
    if not host:
        raise ValueError(f"not a SIP endpoint: {text!r}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Registrar:
    """The demo registrar of READY info: `listen` the address it listens on as given (perhaps a
    wildcard), `host` the address READY names, its UDP port and its TCP port."""

    listen: str
    host: str
    port: int
    tcp_port: int | None = None

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Registrar | None:
        """None without a `sip` endpoint (a remote Kazoo)."""
        try:
            host, port = endpoint(str(info["sip"]))
            tcp = info.get("sip_tcp")
            tcp_port = endpoint(tcp)[1] if isinstance(tcp, str) else None
        except (KeyError, ValueError):
            return None
        listen = info.get("sip_host")
        return cls(listen.strip("[]") if isinstance(listen, str) else host, host, port, tcp_port)

    @property
    def wildcard(self) -> bool:
        return self.listen in WILDCARDS

    @property
    def loopback_only(self) -> bool:
        return not self.wildcard and is_loopback(self.listen)

    @property
    def transport(self) -> str:
        if self.tcp_port is None:
            return "UDP"
        if self.tcp_port == self.port:
            return "UDP (or TCP)"
        return f"UDP (or TCP on port {self.tcp_port})"


@dataclass(frozen=True)
class LocalAddress:
    address: str
    interface: str
    virtual: bool = False

    @property
    def label(self) -> str:
        return f"{self.address}  ({self.interface})"


def local_addresses() -> list[LocalAddress]:
    """Every address of this computer's interfaces that are up, loopback aside."""
    flag = QNetworkInterface.InterfaceFlag
    found: list[LocalAddress] = []
    for interface in QNetworkInterface.allInterfaces():
        flags = interface.flags()
        if not (flags & flag.IsUp and flags & flag.IsRunning) or flags & flag.IsLoopBack:
            continue
        virtual = interface.type() == QNetworkInterface.InterfaceType.Virtual or (
            interface.name().startswith(VIRTUAL_PREFIXES)
        )
        name = interface.humanReadableName() or interface.name()
        for entry in interface.addressEntries():
            found.append(LocalAddress(entry.ip().toString(), name, virtual))
    return found


def ranked(candidates: Iterable[LocalAddress], *, ipv6: bool) -> list[LocalAddress]:
    """The addresses a phone on a network could use, best first: IPv4 before IPv6, real
    interfaces before those of containers and VMs, private (LAN) before public ones. Link-local
    addresses are left out: a phone would need the interface's scope to use them."""
    keyed: list[tuple[tuple[int, bool, bool], LocalAddress]] = []
    for candidate in candidates:
        try:
            ip = ipaddress.ip_address(candidate.address.split("%")[0])
        except ValueError:
            continue
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            continue
        if ip.version == 4 or ipv6:
            keyed.append(((ip.version, candidate.virtual, not ip.is_private), candidate))
    return [candidate for _key, candidate in sorted(keyed, key=lambda pair: pair[0])]


# ---- what a device registers with ---------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    realm: str


def phone_devices(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(id, name) of the listed devices that can register with a SIP password: enabled and with
    a SIP username (a device authenticating by IP has none)."""
    return [
        (str(row["id"]), str(row.get("name") or row["id"]))
        for row in rows
        if row.get("id") and row.get("username") and row.get("enabled", True) is not False
    ]


def credentials_of(device: Mapping[str, Any], account_realm: str) -> Credentials | str:
    """What a phone registers `device` with, or a sentence saying why it cannot."""
    sip = device.get("sip")
    sip = sip if isinstance(sip, dict) else {}
    name = str(device.get("name") or "This device")
    if sip.get("method") == "ip":
        source = f" ({sip['ip']})" if sip.get("ip") else ""
        return (
            f"{name} authenticates by its IP address{source}, not with a password: it does not "
            "register, so it has no SIP username or password. Kazoo knows its calls by the "
            "address they come from."
        )
    if device.get("enabled") is False:
        return f"{name} is disabled: the registrar refuses it. Enable it in its editor first."
    username, password = sip.get("username"), sip.get("password")
    if not (isinstance(username, str) and username and isinstance(password, str) and password):
        return f"{name} has no SIP username and password: it does not register."
    realm = sip.get("realm") or account_realm
    if not isinstance(realm, str) or not realm:
        return "The account has no SIP realm: a phone has no domain to register in."
    return Credentials(username, password, realm)


# ---- the dialog ---------------------------------------------------------------------------------


def _monospace_edit(name: str, label: str, parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(f"phone.{name}")
    edit.setAccessibleName(label)
    edit.setReadOnly(True)
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return edit


def _button(text: str, name: str, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    return button


class ConnectPhoneDialog(QDialog):
    """The settings a phone registers a device of the account with, each with a copy button."""

    def __init__(
        self,
        session: Session,
        devices: Sequence[tuple[str, str]],
        chosen: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        registrar = Registrar.of(session.server_info)
        if registrar is None:
            raise ValueError("the session's server has no demo registrar (see connect_phone)")
        self.session, self.registrar = session, registrar
        self.setWindowTitle(TITLE)
        self.setObjectName("phone")
        self._realm: str | None = None
        self._credentials: Credentials | None = None
        self._loading: asyncio.Task[None] | None = None
        self._rows: dict[str, QWidget] = {}
        self.form = QFormLayout()
        self.device = self._device_combo(devices, chosen)
        self.network = self._network_combo() if registrar.wildcard else None
        self._add_fields()
        self.message = QLabel("", self, wordWrap=True)
        self.message.setObjectName("phone.message")
        self.message.hide()
        self.note = self._note()
        self._lay_out()
        self.device.currentIndexChanged.connect(self._device_chosen)
        self.finished.connect(self._stop_loading)
        self._device_chosen()

    # -- building

    def _device_combo(self, devices: Sequence[tuple[str, str]], chosen: str | None) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName("phone.device")
        combo.setAccessibleName("Device")
        for device_id, name in devices:
            combo.addItem(name, device_id)
        if chosen is not None and combo.findData(chosen) < 0:
            combo.insertItem(0, chosen, chosen)  # named once it is read
        if chosen is not None:
            combo.setCurrentIndex(combo.findData(chosen))
        self.form.addRow("Device", combo)
        return combo

    def _network_combo(self) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName("phone.network")
        combo.setAccessibleName("Network")
        combo.setToolTip("The addresses of this computer, the likeliest first")
        for local in ranked(local_addresses(), ipv6=self.registrar.listen != "0.0.0.0"):
            combo.addItem(local.label, local.address)
        if combo.count() == 0:
            combo.addItem(f"{self.registrar.host}  (no network found)", self.registrar.host)
        combo.currentIndexChanged.connect(self._network_chosen)
        self.form.addRow("Network", combo)
        return combo

    def _add_fields(self) -> None:
        self.address = self._field("address", "Server", "registrar (proxy) address")
        self.address.setText(self._address())
        self.port = self._field("port", "Port")
        self.port.setText(str(self.registrar.port))
        self.transport = self._field("transport", "Transport")
        self.transport.setText(self.registrar.transport)
        self.realm = self._field("realm", "Domain", "SIP domain (realm)")
        self.username = self._field("username", "Username")
        same = QLabel("the same as the username, where a phone asks for one", self)
        same.setStyleSheet("color: palette(mid);")
        self.form.addRow("Auth username", same)
        self._rows["auth"] = same
        self.show_password = _button("Show", "phone.password.show", "Show the password", self)
        self.show_password.setCheckable(True)
        self.show_password.toggled.connect(self._reveal)
        self.password = self._field("password", "Password", extra=self.show_password)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)

    def _field(
        self, name: str, label: str, what: str = "", extra: QWidget | None = None
    ) -> QLineEdit:
        row = QWidget(self)
        edit = _monospace_edit(name, label, row)
        copy = _button("Copy", f"phone.{name}.copy", f"Copy the {what or label.lower()}", row)
        copy.clicked.connect(lambda: self._copy(edit.text(), what or label.lower()))
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(edit, 1)
        for widget in (extra, copy):
            if widget is not None:
                box.addWidget(widget)
        self.form.addRow(label, row)
        self._rows[name] = row
        return edit

    def _note(self) -> QLabel:
        note = QLabel("", self, wordWrap=True)
        note.setObjectName("phone.note")
        if self.registrar.loopback_only:
            note.setText(LOOPBACK_NOTE.format(host=self.registrar.listen))
            return note
        lead = WILDCARD_NOTE if self.registrar.wildcard else ""
        note.setText(lead + PUBLIC_NOTE)
        note.setStyleSheet(f"color: {tone('warning')};")
        return note

    def _lay_out(self) -> None:
        intro = QLabel(INTRO, self, wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_all = QPushButton("Copy all", self)
        self.copy_all.setObjectName("phone.copy_all")
        self.copy_all.setToolTip("Copy every setting as text")
        self.copy_all.clicked.connect(lambda: self._copy(self.settings_text(), "settings"))
        buttons.addButton(self.copy_all, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.status = QLabel("", self)
        self.status.setObjectName("phone.status")
        self.status.setStyleSheet("color: palette(mid);")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)
        column = QVBoxLayout(self)
        column.addWidget(intro)
        column.addLayout(self.form)
        column.addWidget(self.message)
        column.addWidget(self.note)
        column.addStretch(1)  # space a hidden row leaves goes here, not between the rows
        column.addLayout(bottom)
        self.setMinimumWidth(500)

    # -- what it shows

    def _address(self) -> str:
        if self.network is not None:
            return str(self.network.currentData())
        return self.registrar.host

    def settings_text(self) -> str:
        """Every setting as text, to paste into a note or a message."""
        lines = [
            f"SIP settings of {self.device.currentText()} (KazooDesk demo)",
            f"Server (registrar, outbound proxy): {self.address.text()}",
            f"Port: {self.port.text()}",
            f"Transport: {self.transport.text()}",
        ]
        found = self._credentials
        if found is not None:
            lines += [
                f"Domain (realm): {found.realm}",
                f"Username: {found.username}",
                f"Auth username: {found.username}",
                f"Password: {found.password}",
                f"SIP address: sip:{found.username}@{found.realm}",
            ]
        return "\n".join(lines)

    def _clear(self) -> None:
        """No credentials shown (rows and message left as they are: no jump while loading)."""
        self._credentials = None
        for edit in (self.realm, self.username, self.password):
            edit.clear()
        self.copy_all.setEnabled(False)

    def _show_credentials(self, found: Credentials) -> None:
        self._credentials = found
        self.realm.setText(found.realm)
        self.username.setText(found.username)
        self.password.setText(found.password)
        self._set_credential_rows(True)
        self.copy_all.setEnabled(True)
        self.message.hide()

    def _show_problem(self, text: str, *, error: bool = False) -> None:
        self._clear()
        self._set_credential_rows(False)
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {tone('error')};" if error else "")
        self.message.show()

    def _set_credential_rows(self, visible: bool) -> None:
        for name in ("realm", "username", "auth", "password"):
            self.form.setRowVisible(self._rows[name], visible)

    # -- reactions

    def _device_chosen(self) -> None:
        self._stop_loading()
        self._clear()
        device_id = self.device.currentData()
        if device_id is None:
            self._show_problem("No device of this account registers with a SIP password.")
            return
        self._loading = spawn(self._load(str(device_id)))

    async def _load(self, device_id: str) -> None:
        call, client = self.session.call, self.session.client
        try:
            if self._realm is None:
                self._realm = str((await call(client.get_account)).get("realm") or "")
            document = await call(client.get_device, device_id)
        except KazooError as exc:
            self._show_problem(f"Could not read the device: {exc}", error=True)
            return
        index = self.device.currentIndex()
        if self.device.itemText(index) == device_id and document.data.get("name"):
            self.device.setItemText(index, str(document.data["name"]))
        found = credentials_of(document.data, self._realm)
        if isinstance(found, str):
            self._show_problem(found)
        else:
            self._show_credentials(found)

    def _stop_loading(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None

    def _network_chosen(self) -> None:
        self.address.setText(self._address())

    def _reveal(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.show_password.setText("Hide" if shown else "Show")

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.status.setText(f"Copied the {what}.")


async def connect_phone(
    parent: QWidget,
    session: Session,
    devices: Sequence[tuple[str, str]],
    chosen: str | None = None,
) -> None:
    """Show how to register a phone with the demo's registrar as one of `devices` ((id, name),
    see `phone_devices`), `chosen` first, until the user closes it. The dialog is not modal: the
    registrations can be watched meanwhile. A session without a demo registrar (a remote Kazoo)
    gets a message saying what the tool is for."""
    if Registrar.of(session.server_info) is None:
        await inform(parent, TITLE, REMOTE_TEXT)
        return
    dialog = ConnectPhoneDialog(session, devices, chosen, parent)
    try:
        await _shown_until_closed(dialog)
    finally:
        if dialog.isVisible():  # cancelled: the app is closing
            dialog.reject()
        dialog.deleteLater()


async def _shown_until_closed(dialog: QDialog) -> int:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not done.done():
            done.set_result(result)

    dialog.finished.connect(finished)
    dialog.show()
    return await done
