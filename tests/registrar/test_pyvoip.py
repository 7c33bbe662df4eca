"""Interop with pyVoIP (a pure-Python SIP phone, a dev dependency): its `VoIPPhone` registers
with digest over real UDP on 127.0.0.1 beside another, independent client, shows in the REST
API's `/registrations` and `/devices/status`, and unregisters when it stops.

pyVoIP takes the registrar's address as the SIP domain too, so its account's realm is
`127.0.0.1`. It asks for 120 s and does not follow a 423, so it is configured for 600 s (Kazoo's
minimum is 300). Its RTP range is given but unused: no call is made."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from helpers import Api, Server, own_server_fixture, sip_address, sip_register

pytestmark = pytest.mark.usefixtures("sip_front")  # alone, and with the SIP front process

VoIP = pytest.importorskip("pyVoIP.VoIP")

server = own_server_fixture("pyvoip-store")
REALM = "127.0.0.1"
PASSWORD = "pass-word-1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def account(server: Server) -> Iterator[tuple[Api, str]]:
    """A customer account whose realm is 127.0.0.1, and the master's client to manage it."""
    master = Api.logged_in(server, server.ready["master"])
    made = master.ok(
        "PUT",
        f"/accounts/{server.ready['master']['account_id']}",
        {"name": f"PyVoIP Co {secrets.token_hex(3)}", "realm": REALM},
    )
    try:
        yield master, made["data"]["id"]
    finally:
        master.http.close()


def new_device(master: Api, account_id: str, name: str) -> tuple[str, str]:
    username = f"{name}_{secrets.token_hex(3)}"
    sip = {"username": username, "password": PASSWORD}
    made = master.ok("PUT", f"/accounts/{account_id}/devices", {"name": username, "sip": sip})
    return made["data"]["id"], username


def registrations(master: Api, account_id: str) -> dict[str, dict[str, Any]]:
    rows = master.ok("GET", f"/accounts/{account_id}/registrations")["data"]
    return {row["username"]: row for row in rows}


def registered_devices(master: Api, account_id: str) -> set[str]:
    rows = master.ok("GET", f"/accounts/{account_id}/devices/status")["data"]
    return {row["device_id"] for row in rows if row["registered"]}


def test_pyvoip_registers_is_listed_and_unregisters_on_stop(
    server: Server, account: tuple[Api, str]
) -> None:
    master, account_id = account
    other_id, other = new_device(master, account_id, "other")
    device_id, username = new_device(master, account_id, "pyvoip")
    # the other client: the registrar's own test phone, from a socket of its own
    assert sip_register(server, other, PASSWORD, REALM, expires=600) == 200

    host, port = sip_address(server)
    sip_port, rtp = free_udp_port(), free_udp_port()
    phone = VoIP.VoIPPhone(
        host, port, username, PASSWORD, myIP="127.0.0.1", sipPort=sip_port,
        rtpPortLow=rtp, rtpPortHigh=rtp + 10,
    )  # fmt: skip
    phone.sip.default_expires = 600
    phone.sip.register_timeout = 10  # each of its blocking waits (30 s by default)
    try:
        phone.start()  # registers before it returns
        assert phone.get_status() == VoIP.PhoneStatus.REGISTERED

        rows = registrations(master, account_id)
        assert {username, other} <= set(rows)
        row = rows[username]
        assert row["user_agent"].startswith("pyVoIP")
        assert (row["contact_ip"], row["contact_port"]) == ("127.0.0.1", sip_port)
        assert (row["source_ip"], row["source_port"]) == ("127.0.0.1", str(sip_port))
        assert row["authorizing_id"] == device_id
        assert 0 < row["expires"] <= 600
        assert {device_id, other_id} <= registered_devices(master, account_id)
    finally:
        phone.stop()  # unregisters (Expires: 0, challenged and answered) and closes its socket

    assert phone.get_status() == VoIP.PhoneStatus.INACTIVE
    assert eventually(lambda: username not in registrations(master, account_id))
    assert device_id not in registered_devices(master, account_id)
    assert other in registrations(master, account_id)  # the other client is untouched
    assert other_id in registered_devices(master, account_id)
