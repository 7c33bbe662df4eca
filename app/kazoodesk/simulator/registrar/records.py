"""Bindings as Kazoo's registrar query shows them (ecallmgr `reg_query`, normalised to
snake_case the way `cb_registrations` lists them; kazoo-api.md §15).

The REST layer still adds `contact_ip`/`contact_port` (from `original_contact`), removes the
internal fields (`account_id`, ...) and may add `account_name`.
"""

from __future__ import annotations

from typing import Any

from kazoodesk.simulator.registrar.bindings import Binding
from kazoodesk.simulator.registrar.credentials import DeviceCredentials

GREGORIAN_OFFSET = 62167219200  # seconds from year 0 to the Unix epoch, as Kazoo counts


def gregorian(unix_time: float) -> int:
    return int(unix_time) + GREGORIAN_OFFSET


def registration_record(
    binding: Binding,
    device: DeviceCredentials | None,
    now: float,
    proxy: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """One registration row: `expires` = whole seconds left (at least 0)."""
    b = binding
    row: dict[str, Any] = {
        "username": b.username,
        "realm": b.realm,
        "account_realm": b.realm,
        "contact": f"<{b.contact}>",
        "original_contact": f"<{b.contact}>",
        "expires": b.remaining(now),
        "call_id": b.call_id,
        "user_agent": b.user_agent,
        "from_user": b.username,
        "from_host": b.realm,
        "to_user": b.username,
        "to_host": b.realm,
        "network_ip": b.source_ip,
        "network_port": str(b.source_port),
        "source_ip": b.source_ip,
        "source_port": str(b.source_port),
        "proxy_protocol": b.transport.lower(),
        "first_registration": gregorian(b.first_registered),
        "last_registration": gregorian(b.last_registered),
        "event_timestamp": gregorian(b.last_registered),
        "suppress_unregister_notify": False,
        "authorizing_type": "device",
    }
    if proxy is not None:
        row["proxy_ip"], row["proxy_port"] = proxy[0], str(proxy[1])
    device_id = b.device_id or (device.device_id if device else None)
    if device_id:
        row["authorizing_id"] = device_id
    if device is not None:
        row["account_id"] = device.account_id
        if device.owner_id:
            row["owner_id"] = device.owner_id
    return row
