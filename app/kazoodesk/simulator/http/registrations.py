"""`/v2/accounts/{A}/registrations` (Kazoo 4.3 `cb_registrations`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kazoodesk.simulator.docs import normalized
from kazoodesk.simulator.http.envelope import Call, Reply, bad_identifier, forbidden

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

# `?MASK_REG_FIELDS`, normalised
HIDDEN = (
    "account_db",
    "account_id",
    "app_name",
    "app_version",
    "event_category",
    "event_name",
    "server_id",
)
# scheme, host (an IPv6 one in brackets), port, parameters
_SIP_URI = re.compile(r"(sips?):(?:[^@<>]*@)?(\[[^\]]*\]|[^:;>?]+)(?::(\d{1,5}))?([^>]*)", re.I)
_TLS = re.compile(r";transport=tls\b", re.I)


def _account_id(call: Call) -> str:
    assert call.account_id is not None
    return call.account_id


def account_realm(sim: Simulator, account_id: str) -> str | None:
    account = sim.accounts.get(account_id)
    realm = account.get("realm") if account else None
    return realm.lower() if isinstance(realm, str) and realm else None


def live_records(sim: Simulator, account_id: str) -> list[dict[str, Any]]:
    """The account's bindings in the live registrar (by the account's realm)."""
    realm = account_realm(sim, account_id)
    if sim.registrar is None or realm is None:
        return []
    return sim.registrar.records(realm)


def registration_rows(sim: Simulator, account_id: str) -> list[dict[str, Any]]:
    """The account's live registrations as Kazoo shows them
    (`cb_registrations:normalize_registration/1`): snake_case keys, internal fields gone,
    `contact_ip` and `contact_port` read from `original_contact`."""
    rows = [_shown(registration) for registration in live_records(sim, account_id)]
    return sorted(rows, key=lambda row: (row.get("username") or "", row.get("contact") or ""))


def _shown(registration: dict[str, Any]) -> dict[str, Any]:
    row = normalized(registration)
    for key in HIDDEN:
        row.pop(key, None)
    return {**row, **contact_address(row.get("original_contact") or row.get("contact"))}


def contact_address(contact: Any) -> dict[str, Any]:
    """The host and port of a SIP URI; the port defaults to 5061 for `sips:` and TLS, else
    5060 (`maybe_default_port/3`). Nothing for what is not a SIP URI."""
    found = _SIP_URI.search(contact) if isinstance(contact, str) else None
    if found is None:
        return {}
    scheme, host, port, params = found.groups()
    if not port:
        port = 5061 if scheme.lower() == "sips" or _TLS.search(params) else 5060
    return {"contact_ip": host, "contact_port": int(port)}


async def flush(sim: Simulator, account_id: str, usernames: Iterable[str] | None = None) -> None:
    """Kazoo's registration flush: end the registrations of these SIP usernames (all of the
    account's when None) in the live registrar."""
    realm = account_realm(sim, account_id)
    if sim.registrar is None or realm is None:
        return
    if usernames is None:
        sim.registrar.flush(realm)
        return
    for username in usernames:
        sim.registrar.flush(realm, username)


async def list_registrations(call: Call, sim: Simulator) -> Reply:
    return Reply(registration_rows(sim, _account_id(call)))


async def count_registrations(call: Call, sim: Simulator) -> Reply:
    realm = account_realm(sim, _account_id(call))
    count = sim.registrar.count(realm) if sim.registrar is not None and realm else 0
    return Reply({"count": count})


def registered_device_ids(sim: Simulator, account_id: str) -> set[str]:
    """The devices with a live registration in the account (for `/devices/status`)."""
    realm = account_realm(sim, account_id)
    if sim.registrar is None or realm is None:
        return set()
    return sim.registrar.registered_device_ids(realm)


async def count_all_registrations(call: Call, sim: Simulator) -> Reply:
    """`/v2/registrations/count`: the system-wide count, for superduper-admins only."""
    if not sim.accounts.is_superduper(call.auth_account_id):
        raise forbidden()
    return Reply({"count": sim.registrar.count() if sim.registrar is not None else 0})


async def flush_all(call: Call, sim: Simulator) -> Reply:
    await flush(sim, _account_id(call))
    return Reply("ok")


async def flush_one(call: Call, sim: Simulator) -> Reply:
    account_id = _account_id(call)
    username = call.params["username"]
    if not sim.store.reader.lookup("sip_credentials", username.lower(), account_id):
        raise bad_identifier(username)
    await flush(sim, account_id, [username])
    return Reply("ok")
