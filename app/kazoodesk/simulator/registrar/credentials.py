"""What the registrar needs to know about a device, and how it asks (the simulator's store
answers; the registrar never imports it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

AuthMethod = Literal["password", "ip"]


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """A device's SIP identity: `sip.username`/`sip.password` in the account's realm, or,
    with `method` "ip", its `sip.ip` (requests from there need no digest). `enabled` is
    False for a disabled device (a deleted one is simply not found)."""

    device_id: str
    account_id: str
    realm: str
    username: str
    password: str = ""
    enabled: bool = True
    method: AuthMethod = "password"
    owner_id: str | None = None
    ip: str | None = None


# lookup(realm, username) with both lower-case: the device with these SIP credentials
CredentialsLookup = Callable[[str, str], DeviceCredentials | None]
# realm_known(realm): whether an account has this realm
RealmCheck = Callable[[str], bool]
# lookup_ip(source_ip): the `sip.method: ip` device whose `sip.ip` this is
IpLookup = Callable[[str], DeviceCredentials | None]


def no_ip_devices(source_ip: str) -> DeviceCredentials | None:
    """An `IpLookup` for a simulator without IP-authenticated devices."""
    return None
