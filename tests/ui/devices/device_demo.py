"""Demo Co's devices and users from resources/demo/demo.json, as the API lists them.

The rows are built from the seed the way GET /devices lists a device (kazoo-api.md §5.1), but
with the MACs as the seed stores them (colons, dashes, dots, bare, any case), so the list's
formatting is tested on every form a server may hold.
"""

from __future__ import annotations

from typing import Any

from helpers import DEMO
from kazoodesk.simulator.demo import load_demo_data


def demo_account() -> dict[str, Any]:
    accounts = load_demo_data()["accounts"]
    account: dict[str, Any] = next(a for a in accounts if a["id"] == DEMO)
    return account


def listing_row(device: dict[str, Any]) -> dict[str, Any]:
    """A seed device as a row of GET /v2/accounts/{A}/devices; absent values left out."""
    row: dict[str, Any] = {
        "id": device["id"],
        "name": device["name"],
        "mac_address": device.get("mac_address") or "",
        "enabled": device.get("enabled", True),
        "device_type": device.get("device_type", "sip_device"),
        "flags": device.get("flags", []),
    }
    username = (device.get("sip") or {}).get("username")
    if username:
        row["username"] = username
    if device.get("owner_id"):
        row["owner_id"] = device["owner_id"]
    return row


def demo_rows() -> list[dict[str, Any]]:
    return [listing_row(d) for d in demo_account()["devices"]]


def demo_users() -> list[dict[str, Any]]:
    return [
        {k: u[k] for k in ("id", "first_name", "last_name", "username")}
        for u in demo_account()["users"]
    ]
