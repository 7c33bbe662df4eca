"""What the running registrar knows of the store's devices: credentials by realm and
username (the account's realm or the device's own), disabled devices and accounts, and edits
seen at once (the lookup cache is dropped on commit)."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any

import pytest

from helpers import DEMO, Api, Server, own_server_fixture, sip_register
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner, StartError

demo_server = own_server_fixture("sip-directory-store")


def new_device(api: Api, **sip: Any) -> tuple[str, str]:
    username = f"dir_{secrets.token_hex(4)}"
    device = {"name": username, "sip": {"username": username, "password": "Pass-word-1", **sip}}
    return api.ok("PUT", f"{api.account}/devices", device)["data"]["id"], username


def realm(api: Api) -> str:
    value: str = api.ok("GET", api.account)["data"]["realm"]
    return value


def test_ready_names_the_registrar(demo_server: Server) -> None:
    assert demo_server.ready["sip"].startswith("udp:127.0.0.1:")
    assert demo_server.ready["sip_tcp"].startswith("tcp:127.0.0.1:")


def test_password_edits_and_disabling_are_seen_at_once(api: Api, demo_server: Server) -> None:
    device_id, user = new_device(api)
    here = realm(api)
    assert sip_register(demo_server, user, "Pass-word-1", here) == 200
    assert sip_register(demo_server, user.upper(), "Pass-word-1", here.upper()) == 200
    api.ok("PATCH", f"{api.account}/devices/{device_id}", {"sip": {"password": "Other-pass-2"}})
    assert sip_register(demo_server, user, "Pass-word-1", here) == 401  # challenged again
    assert sip_register(demo_server, user, "Other-pass-2", here) == 200
    api.ok("PATCH", f"{api.account}/devices/{device_id}", {"enabled": False})
    assert sip_register(demo_server, user, "Other-pass-2", here) == 403
    api.ok("DELETE", f"{api.account}/devices/{device_id}")
    assert sip_register(demo_server, user, "Other-pass-2", here) in {403, 404}


def test_unknown_realm_and_user(api: Api, demo_server: Server) -> None:
    assert sip_register(demo_server, "nobody", "x", "no-such-realm.test") == 404
    assert sip_register(demo_server, f"nobody_{secrets.token_hex(3)}", "x", realm(api)) == 403


def test_a_device_with_a_realm_of_its_own(api: Api, demo_server: Server) -> None:
    own = f"{secrets.token_hex(4)}.own.kazoodesk.test"
    _device_id, user = new_device(api, realm=own)
    assert sip_register(demo_server, user, "Pass-word-1", own) == 200


def test_a_disabled_account_cannot_register(master_api: Api, demo_server: Server) -> None:
    master_id = demo_server.ready["master"]["account_id"]
    account = master_api.ok(
        "PUT", f"/accounts/{master_id}", {"name": f"Sip {secrets.token_hex(3)}"}
    )
    account_id, here = account["data"]["id"], account["data"]["realm"]
    user = f"acc_{secrets.token_hex(3)}"
    device = {"name": user, "sip": {"username": user, "password": "Pass-word-1"}}
    master_api.ok("PUT", f"/accounts/{account_id}/devices", device)
    assert sip_register(demo_server, user, "Pass-word-1", here) == 200
    master_api.ok("PATCH", f"/accounts/{account_id}", {"enabled": False})
    assert sip_register(demo_server, user, "Pass-word-1", here) == 403
    assert account_id != DEMO


def test_a_busy_sip_port_fails_the_start(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        runner = SimulatorRunner(ServeOptions(data_dir=tmp_path, port=0, sip_port=port))
        with pytest.raises(StartError, match=f"127.0.0.1:{port} \\(SIP\\)"):
            runner.start_in_thread()
    assert runner.sim is None
