"""What other real servers put on the wire: Kazoo 4.3.0's timestamps without `Z`, actions
answered 202 (as the Kazoo docs show), an `etag` but no envelope `revision`, empty error
bodies, a proxy's non-JSON page. The server here is a stand-in for such a release."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from kazoo_support import envelope, standin

from kazoodesk.kazoo import KazooClient, KazooError

ACCOUNT = "a" * 32
DEVICE = "d" * 32
DEVICE_PATH = f"/v2/accounts/{ACCOUNT}/devices/{DEVICE}"


class OldServer:
    """A Kazoo 4.3.0 as this module needs it; `requests` keeps what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def note(self, request: web.Request) -> None:
        body = await request.text()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": json.loads(body) if body else None,
                "token": request.headers.get("X-Auth-Token"),
                "if_match": request.headers.get("If-Match"),
            }
        )

    async def user_auth(self, request: web.Request) -> web.Response:
        await self.note(request)
        data = {"account_id": ACCOUNT, "account_name": "Old Co", "owner_id": "u" * 32}
        return envelope(data, 201, auth_token="token-1")

    async def device(self, request: web.Request) -> web.Response:
        await self.note(request)
        if request.method == "GET":
            response = envelope({"id": DEVICE, "name": "Old Phone"})
            response.headers["ETag"] = '"3-0ldrev"'
            return response
        if request.method == "POST":
            return web.Response(status=412)  # cowboy's If-Match failure: no body at all
        return envelope("NOTIFY sent", 202)

    async def sync(self, request: web.Request) -> web.Response:
        await self.note(request)
        return envelope("sync request sent", 202)

    async def quickcall(self, request: web.Request) -> web.Response:
        await self.note(request)
        return envelope({"application_name": "transfer"}, 202)

    async def account(self, request: web.Request) -> web.Response:
        return web.Response(status=200, text="<html>maintenance</html>", content_type="text/html")

    async def unreachable(self, request: web.Request) -> web.Response:
        body = {
            "status": "error",
            "error": "503",
            "message": "datastore_unreachable",
            "data": {"message": "datastore unreachable"},
            "timestamp": "2018-05-16T19:08:00",
        }
        return web.json_response(body, status=503)

    def routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("PUT", "/v2/user_auth"): self.user_auth,
            ("*", DEVICE_PATH): self.device,
            ("POST", f"{DEVICE_PATH}/sync"): self.sync,
            ("GET", f"{DEVICE_PATH}/quickcall/{{number}}"): self.quickcall,
            ("GET", f"/v2/accounts/{ACCOUNT}"): self.account,
            ("GET", f"/v2/accounts/{ACCOUNT}/registrations"): self.unreachable,
        }


def run_against_old_server(scenario: Any) -> OldServer:
    old = OldServer()

    async def main() -> None:
        async with standin(old.routes()) as url, KazooClient(url) as client:
            await client.login(account_name="Old Co", username="admin", password="secret")
            await scenario(client)

    asyncio.run(main())
    return old


def test_timestamps_without_z_and_the_version_are_read() -> None:
    async def scenario(client: KazooClient) -> None:
        assert client.server_version == "4.3.0"
        assert client.server_time == datetime(2018, 5, 16, 19, 8, tzinfo=UTC)
        assert client.auth is not None and client.auth.token == "token-1"

    old = run_against_old_server(scenario)
    credentials = hashlib.md5(b"admin:secret").hexdigest()
    assert old.requests[0]["body"] == {
        "data": {"credentials": credentials, "account_name": "Old Co"}
    }
    assert old.requests[0]["token"] is None


def test_actions_answered_202_succeed() -> None:
    async def scenario(client: KazooClient) -> None:
        assert await client.sync_device(DEVICE, reboot=False) == "sync request sent"
        assert await client.notify_device(DEVICE, "check-sync") == "NOTIFY sent"
        assert await client.quickcall(DEVICE, "1001") == {"application_name": "transfer"}

    old = run_against_old_server(scenario)
    sync, notify, quickcall = old.requests[1:]
    assert (sync["method"], sync["query"], sync["token"]) == (
        "POST",
        {"reboot": "false"},
        "token-1",
    )
    assert notify["body"] == {"action": "notify", "data": {"data": {"event": "check-sync"}}}
    assert quickcall["path"].endswith("/quickcall/1001")


def test_the_revision_comes_from_the_etag_when_the_envelope_has_none() -> None:
    async def scenario(client: KazooClient) -> None:
        document = await client.get_device(DEVICE)
        assert document.revision == "3-0ldrev"
        with pytest.raises(KazooError) as caught:
            await client.save_device(DEVICE, document.data, document.revision)
        assert caught.value.status == 412
        assert str(caught.value).startswith(
            "the device was changed by someone else (revision mismatch)"
        )

    old = run_against_old_server(scenario)
    assert old.requests[-1]["if_match"] == '"3-0ldrev"'


def test_a_page_that_is_not_kazoo_json_is_an_error() -> None:
    async def scenario(client: KazooClient) -> None:
        with pytest.raises(KazooError) as caught:
            await client.get_account()
        assert caught.value.status == 200
        assert "did not answer like a Kazoo server" in str(caught.value)

    run_against_old_server(scenario)


def test_a_server_error_keeps_kazoo_s_words() -> None:
    async def scenario(client: KazooClient) -> None:
        with pytest.raises(KazooError) as caught:
            await client.registrations()
        error = caught.value
        assert (error.status, error.code, error.message) == (
            503,
            "datastore_unreachable",
            "datastore unreachable",
        )
        assert str(error) == (
            "the server's datastore is unavailable; try again later: datastore unreachable"
        )

    run_against_old_server(scenario)


def test_a_redirect_tells_where_the_server_is() -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("https://kazoo.example.com:8443/v2/user_auth")

    async def scenario() -> KazooError:
        async with standin({("PUT", "/v2/user_auth"): moved}) as url, KazooClient(url) as client:
            with pytest.raises(KazooError) as caught:
                await client.login(account_name="Old Co", username="admin", password="secret")
            return caught.value

    error = asyncio.run(scenario())
    assert (error.status, error.message) == (301, "redirected")
    assert str(error) == (
        "the server redirects to https://kazoo.example.com:8443/v2/user_auth;"
        " connect to that address instead"
    )
