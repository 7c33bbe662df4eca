"""The PyPI client `pykazoo==0.0a8`, unchanged, against the simulator's devices API."""

from __future__ import annotations

from typing import Any

import pytest
from pykazoo.client import PyKazooClient  # a dev dependency: `make test` installs it

from helpers import GLOBEX, Server, own_server_fixture, sip_register

DEMO_ADMIN = ("admin", "DemoCo-Admin-2024", "Demo Co")
PREFIX = "pykazoo"


server = own_server_fixture("pykazoo-store")  # these tests create and delete devices


@pytest.fixture
def client(server: Server) -> Any:
    kazoo = PyKazooClient(server.api)
    kazoo.authentication.user_auth(*DEMO_ADMIN)
    return kazoo


def test_user_auth(server: Server) -> None:
    kazoo = PyKazooClient(server.api)
    assert not kazoo.authentication.authenticated
    reply = kazoo.authentication.user_auth(*DEMO_ADMIN)
    assert reply["status"] == "success"
    assert reply["auth_token"]
    assert reply["data"]["account_name"] == "Demo Co"
    assert kazoo.authentication.authenticated
    assert kazoo.authentication.account_id == server.ready["account_id"]
    devices = kazoo.devices.get_devices(kazoo.authentication.account_id)
    assert devices["status"] == "success" and devices["data"]


def test_user_auth_with_a_wrong_password_is_refused(server: Server) -> None:
    kazoo = PyKazooClient(server.api)
    with pytest.raises(PermissionError, match="401"):
        kazoo.authentication.user_auth("admin", "wrong-password", "Demo Co")
    assert not kazoo.authentication.authenticated


def test_api_auth(server: Server) -> None:
    kazoo = PyKazooClient(server.api)
    reply = kazoo.authentication.api_auth(server.ready["api_key"])
    assert reply["auth_token"]
    assert "owner_id" not in reply["data"]
    assert kazoo.authentication.account_id == server.ready["account_id"]
    assert kazoo.devices.get_devices(server.ready["account_id"])["data"]

    master = PyKazooClient(server.api)
    master.authentication.api_auth(server.ready["master"]["api_key"])
    assert master.authentication.account_id == server.ready["master"]["account_id"]
    # the superduper-admin reaches the demo company too
    assert master.devices.get_devices(server.ready["account_id"])["data"]


def test_api_auth_with_an_unknown_key_is_refused(server: Server) -> None:
    kazoo = PyKazooClient(server.api)
    with pytest.raises(ValueError, match="404"):
        kazoo.authentication.api_auth("0" * 64)


def test_device_lifecycle(client: Any) -> None:
    account_id = client.authentication.account_id
    devices = client.devices

    created = devices.create_device(
        account_id,
        {
            "data": {
                "name": "PyKazoo Desk",
                "device_type": "sip_device",
                "mac_address": "00:04:F2:AA:BB:01",
                "sip": {"username": f"{PREFIX}_desk", "password": "pykazoo-pass-1"},
            }
        },
    )
    assert created["status"] == "success"
    device = created["data"]
    device_id = device["id"]
    assert device["mac_address"] == "0004f2aabb01"
    assert device["enabled"] is True  # schema defaults applied
    assert created["revision"].startswith("1-")

    listed = devices.get_devices(account_id, {"paginate": "false"})["data"]
    row = next(r for r in listed if r["id"] == device_id)
    assert row["username"] == f"{PREFIX}_desk" and row["mac_address"] == "0004f2aabb01"
    filtered = devices.get_devices(account_id, {"filter_name": "PyKazoo Desk"})["data"]
    assert [r["id"] for r in filtered] == [device_id]

    got = devices.get_device(account_id, device_id)
    assert got["data"] == device and got["revision"] == created["revision"]

    replaced = devices.update_device(
        account_id,
        device_id,
        {"data": {**device, "name": "PyKazoo Desk (moved)", "enabled": False}},
    )
    assert replaced["data"]["name"] == "PyKazoo Desk (moved)"
    assert replaced["data"]["enabled"] is False
    assert replaced["revision"].startswith("2-")
    assert devices.get_device(account_id, device_id)["data"] == replaced["data"]

    deleted = devices.delete_device(account_id, device_id)
    assert deleted["data"]["id"] == device_id
    assert deleted["data"]["_read_only"] == {"deleted": True}
    with pytest.raises(ValueError, match="404"):
        devices.get_device(account_id, device_id)
    listed = devices.get_devices(account_id, {"paginate": "false"})["data"]
    assert device_id not in {r["id"] for r in listed}


def test_invalid_device_is_a_value_error(client: Any) -> None:
    account_id = client.authentication.account_id
    with pytest.raises(ValueError, match="400"):
        client.devices.create_device(account_id, {"data": {"name": "x", "sip": {"method": "ip"}}})


def test_devices_status(client: Any, server: Server) -> None:
    account_id = client.authentication.account_id
    status = client.devices.get_devices_status(account_id)
    assert status["status"] == "success"
    assert status["data"] == []

    created = client.devices.create_device(
        account_id,
        {"data": {"name": "Registered", "sip": {"username": f"{PREFIX}_reg", "password": "p" * 8}}},
    )
    device_id = created["data"]["id"]
    username = f"{PREFIX}_reg"

    realm = client.accounts.get_account(account_id)["data"]["realm"]
    contact = "<sip:reg@127.0.0.1:5070>"
    assert sip_register(server, username, "p" * 8, realm, contact=contact) == 200
    try:
        status = client.devices.get_devices_status(account_id)
        assert status["data"] == [{"device_id": device_id, "registered": True}]
    finally:  # the phone unregisters
        assert sip_register(server, username, "p" * 8, realm, contact=contact, expires=0) == 200


def test_client_reaches_only_what_its_token_allows(server: Server) -> None:
    kazoo = PyKazooClient(server.api)
    kazoo.authentication.user_auth(*DEMO_ADMIN)
    with pytest.raises(RuntimeError, match="403"):
        kazoo.devices.get_devices(GLOBEX)  # a customer outside Demo Co's tree
