"""The devices API of the working account (kazoo-api.md §5)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from kazoodesk.kazoo.errors import KazooError
from kazoodesk.kazoo.session import KazooSession, segment
from kazoodesk.kazoo.values import Answer, Document

DEVICE = "device"


def _document(answer: Answer) -> Document:
    if not isinstance(answer.data, dict):
        raise KazooError(answer.status, "the answer holds no device document")
    return Document(answer.data, answer.revision)


def answer_text(data: Any) -> str:
    """An action's `data` as text: Kazoo answers "sync request sent" or "NOTIFY sent";
    anything else is shown as its message or as JSON."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return json.dumps(data, sort_keys=True)


class DeviceCalls(KazooSession):
    def _device_path(self, device_id: str, *more: str) -> str:
        return self.account_path("devices", segment(device_id), *more)

    async def iter_devices(
        self, page_size: int = 500, filters: dict[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page of the device listing (rows: id, name, username, mac_address, owner_id,
        enabled, device_type, flags, ...). `filters` are Crossbar query filters as named on the
        wire, e.g. `{"filter_device_type": "softphone", "has_key": "owner_id"}` (§5.1)."""
        path = self.account_path("devices")
        async for page in self.pages(path, page_size=page_size, params=filters):
            yield page

    async def list_devices(self, filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every row of the device listing (all pages)."""
        return await self.all_rows(self.account_path("devices"), params=filters)

    async def get_device(self, device_id: str) -> Document:
        return _document(await self.call("GET", self._device_path(device_id), subject=DEVICE))

    async def create_device(self, data: dict[str, Any]) -> Document:
        """`PUT /devices`: the saved device (schema defaults applied, `id` set)."""
        path = self.account_path("devices")
        return _document(await self.call("PUT", path, data=data, subject=DEVICE))

    async def save_device(
        self, device_id: str, data: dict[str, Any], revision: str | None
    ) -> Document:
        """`POST`: `data` replaces the device's fields. With a `revision`, the server refuses
        (412) when the device has changed since."""
        answer = await self.call(
            "POST", self._device_path(device_id), data=data, revision=revision, subject=DEVICE
        )
        return _document(answer)

    async def patch_device(
        self, device_id: str, changes: dict[str, Any], revision: str | None
    ) -> Document:
        """`PATCH`: `changes` merge into the device (a `None` value removes that key)."""
        answer = await self.call(
            "PATCH", self._device_path(device_id), data=changes, revision=revision, subject=DEVICE
        )
        return _document(answer)

    async def delete_device(self, device_id: str, revision: str | None = None) -> None:
        await self.call("DELETE", self._device_path(device_id), revision=revision, subject=DEVICE)

    async def registered_device_ids(self) -> set[str]:
        """Ids of the devices registered now (`GET /devices/status`, §5.8)."""
        answer = await self.call("GET", self.account_path("devices", "status"))
        rows = answer.data if isinstance(answer.data, list) else []
        return {
            row["device_id"]
            for row in rows
            if isinstance(row, dict)
            and isinstance(row.get("device_id"), str)
            and row.get("registered", True)
        }

    async def user_devices(self, user_id: str) -> list[dict[str, Any]]:
        """The devices a user owns or hotdesks on (rows keep `"hotdesked": true`, §5.11)."""
        return await self.all_rows(self.account_path("users", segment(user_id), "devices"))

    async def sync_device(self, device_id: str, reboot: bool | None = None) -> str:
        """Ask the phone to re-read its configuration (`check-sync` NOTIFY, §5.9); `reboot`
        picks the reboot or reload flavour when the device defines them."""
        params = None if reboot is None else {"reboot": "true" if reboot else "false"}
        answer = await self.call(
            "POST", self._device_path(device_id, "sync"), data={}, params=params, subject=DEVICE
        )
        return answer_text(answer.data)

    async def notify_device(
        self,
        device_id: str,
        event: str,
        body: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Send the device a SIP NOTIFY of `event`, with `body` of `content_type` if given
        (Kazoo wants both or neither). The 4.3 wire form (§5.7) nests the request under a
        second `data`."""
        if (body is None) != (content_type is None):
            raise ValueError("a NOTIFY body needs its content type (and the reverse)")
        notify: dict[str, Any] = {"event": event}
        if body is not None:
            notify["body"] = {"data": body, "content_type": content_type}
        answer = await self.call(
            "PUT",
            self._device_path(device_id),
            data={"data": notify},
            envelope={"action": "notify"},
            subject=DEVICE,
        )
        return answer_text(answer.data)

    async def quickcall(self, device_id: str, number: str) -> Any:
        """Ring the device and connect it to `number` (`GET .../quickcall/{number}`, §5.10);
        the server's originate request."""
        path = self._device_path(device_id, "quickcall", segment(number))
        return (await self.call("GET", path, subject=DEVICE)).data
