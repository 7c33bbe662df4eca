"""`KazooClient`: the Qt-free async client of a Kazoo 4.3 server's Crossbar API.

One object per server connection: `login`, then the account-scoped calls work on
`account_id` (the logged-in account, or a descendant it is set to). The HTTP session, the
envelope and the token renewal are in session.py; the device calls in devices.py.
"""

from __future__ import annotations

from typing import Any

from kazoodesk.kazoo.devices import DeviceCalls
from kazoodesk.kazoo.errors import KazooError
from kazoodesk.kazoo.schemas import Schema, SchemaSet, collect_schemas
from kazoodesk.kazoo.session import segment


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise KazooError(200, f"the answer holds no {what}")
    return data


def _ancestors(row: dict[str, Any]) -> list[str]:
    tree = row.get("tree")
    return [item for item in tree if isinstance(item, str)] if isinstance(tree, list) else []


def _rows(data: Any) -> list[dict[str, Any]]:
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


class KazooClient(DeviceCalls):
    """The client of one Kazoo server (`base_url` like `http://127.0.0.1:8000/v2`, with or
    without the `/v2`). Every call raises `KazooError` for an error answer and
    `KazooUnavailable` when the server cannot be reached; `aclose()` when done."""

    # ---- accounts and users ---------------------------------------------------------------

    async def get_account(self, account_id: str | None = None) -> dict[str, Any]:
        """The account document (the working account by default)."""
        answer = await self.call("GET", self.account_path(account_id=account_id), subject="account")
        return _object(answer.data, "account")

    async def account_tree(self) -> list[dict[str, Any]]:
        """The logged-in account, then every descendant, parents before their children.

        Rows are Crossbar's descendant rows `{"id", "name", "realm", "tree"}` (`tree` = the
        ancestor ids, root first) plus `parent_id`; the first row's `parent_id` is None even
        when it has a parent the login cannot see.
        """
        if self.auth is None:
            raise RuntimeError("log in first")
        top_id = self.auth.account_id
        top = await self.get_account(top_id)
        path = self.account_path("descendants", account_id=top_id)
        descendants = [row for row in await self.all_rows(path) if row.get("id") != top_id]
        trees = [_ancestors(row) for row in descendants]
        # the logged-in account's own ancestors, as its descendants' trees show them
        above = next((tree[: tree.index(top_id)] for tree in trees if top_id in tree), [])
        top_row = {"id": top_id, "name": top.get("name"), "realm": top.get("realm")}
        rows = [{**top_row, "tree": above, "parent_id": None}]
        below = [
            {**row, "tree": tree, "parent_id": tree[-1] if tree else None}
            for row, tree in zip(descendants, trees, strict=True)
        ]
        rows.extend(sorted(below, key=lambda row: len(_ancestors(row))))  # stable: server order
        return rows

    async def list_users(self) -> list[dict[str, Any]]:
        """Every user row of the working account (all pages)."""
        return await self.all_rows(self.account_path("users"))

    # ---- registrations ----------------------------------------------------------------------

    async def registrations(self) -> list[dict[str, Any]]:
        """The SIP registrations of the working account's realm now (§15)."""
        return _rows((await self.call("GET", self.account_path("registrations"))).data)

    async def registration_count(self) -> int:
        answer = await self.call("GET", self.account_path("registrations", "count"))
        count = _object(answer.data, "registration count").get("count")
        if not isinstance(count, int):
            raise KazooError(answer.status, "the answer holds no registration count")
        return count

    async def flush_registration(self, username: str) -> None:
        """Drop the registration of SIP `username` (404 when no device has that username)."""
        path = self.account_path("registrations", segment(username))
        await self.call("DELETE", path, subject="registration")

    async def flush_registrations(self) -> None:
        """Drop every registration of the working account's realm."""
        await self.call("DELETE", self.account_path("registrations"))

    # ---- server-wide, no token needed -------------------------------------------------------

    async def websocket_bindings(self) -> Any:
        """What the server's event websocket offers (`GET /v2/websockets`): in 4.3 a map of
        module -> binding names such as `"object.doc_edited.device"`."""
        return (await self.call("GET", "websockets", token=False)).data

    async def schema(self, name: str) -> Schema:
        """The JSON schema `name` as the server stores it (`GET /v2/schemas/{name}`)."""
        answer = await self.call("GET", f"schemas/{segment(name)}", token=False, subject="schema")
        return _object(answer.data, "schema")

    async def device_schemas(self) -> SchemaSet:
        """`devices` and every schema it references, transitively, from the server; one the
        server answers 404 for comes from our bundled copy and is listed in the result's
        `bundled` (`from_server` is the rest). The result is a `dict[str, dict]` by id."""
        return await collect_schemas(self.schema)
