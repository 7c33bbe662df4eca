"""The device list's data without Qt: one record per device with its precomputed search text
and sort key, the filters as list comprehensions, and sorted merging.

Everything here is written for 100,000 devices: per-device work happens once when a row
arrives; a keystroke or a filter change is a few list comprehensions over plain attributes.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from operator import attrgetter
from typing import Any

from kazoodesk.ui.devices.device_types import (
    Status,
    can_register,
    device_type_of,
    format_mac,
    mac_digits,
    mac_search_form,
    status_of,
    type_label,
)


class Column(IntEnum):
    STATUS = 0
    NAME = 1
    TYPE = 2
    USERNAME = 3
    MAC = 4
    OWNER = 5
    ENABLED = 6


# `OwnerFilter(UNASSIGNED)` keeps the devices nobody owns
UNASSIGNED = "-unassigned-"

_DIGIT_RUN = re.compile(r"\d+")
by_sort_key = attrgetter("sort_key")


def natural_key(text: str) -> str:
    """A case-insensitive key where 'Desk 9' sorts before 'Desk 10'."""
    lowered = text.lower()
    if not any(c.isdigit() for c in lowered):
        return lowered
    return _DIGIT_RUN.sub(lambda m: m.group().rjust(12, "0"), lowered)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class DeviceRecord:
    """One listing row (kazoo-api.md §5.1) and what filters and sorts read from it."""

    __slots__ = (
        "device_id",
        "row",
        "name",
        "device_type",
        "username",
        "stored_mac",
        "mac",
        "owner_id",
        "enabled",
        "registrable",
        "status",
        "name_key",
        "haystack",
        "sort_key",
    )

    def __init__(self, row: Mapping[str, Any], registered: set[str] | None) -> None:
        self.sort_key = ""
        self.status = Status.UNKNOWN
        self.update(row, registered)

    def update(self, row: Mapping[str, Any], registered: set[str] | None) -> None:
        self.device_id = str(row["id"])
        self.row = dict(row)
        self.name = _text(row.get("name"))
        self.device_type = device_type_of(self.row)
        self.username = _text(row.get("username"))
        self.stored_mac = _text(row.get("mac_address"))
        self.mac = format_mac(self.stored_mac)
        self.owner_id = _text(row.get("owner_id"))
        self.enabled = row.get("enabled", True) is not False
        self.registrable = can_register(self.device_type, self.username)
        self.set_status(registered)
        self.name_key = natural_key(self.name)
        # owner names are searched separately (OwnerIndex), so loading users costs nothing here
        self.haystack = "\n".join(
            (
                self.name,
                type_label(self.device_type),
                self.device_type,
                self.username,
                self.mac,
                mac_digits(self.stored_mac),
                self.device_id,
            )
        ).lower()

    def set_status(self, registered: set[str] | None) -> bool:
        """Recompute the state from the registered ids (None: not known yet); True if changed."""
        now = status_of(
            self.enabled,
            self.registrable,
            None if registered is None else self.device_id in registered,
        )
        changed = now != self.status
        self.status = now
        return changed


@dataclass
class OwnerIndex:
    """The account's users: display names and the lowercase text a search matches."""

    names: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    haystacks: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, users: Iterable[Mapping[str, Any]]) -> OwnerIndex:
        index = cls()
        for user in users:
            user_id = _text(user.get("id"))
            if not user_id:
                continue
            full = " ".join(
                p for p in (_text(user.get("first_name")), _text(user.get("last_name"))) if p
            )
            username = _text(user.get("username"))
            index.names[user_id] = full or username or user_id
            index.usernames[user_id] = username
            index.haystacks[user_id] = f"{full}\n{username}".lower()
        return index

    def matching(self, term: str) -> set[str]:
        return {user_id for user_id, hay in self.haystacks.items() if term in hay}


def sort_key(device: DeviceRecord, column: Column, owners: OwnerIndex) -> str:
    """A key unique to the device (name then id break ties); empty values sort last."""
    tail = f"{device.name_key}\0{device.device_id}"
    if column == Column.NAME:
        return tail
    if column == Column.STATUS:
        primary = str(int(device.status))
    elif column == Column.TYPE:
        primary = type_label(device.device_type).lower()
    elif column == Column.USERNAME:
        primary = natural_key(device.username)
    elif column == Column.MAC:
        primary = device.mac.lower()
    elif column == Column.OWNER:
        primary = natural_key(owners.names.get(device.owner_id, device.owner_id))
    else:
        primary = "0" if device.enabled else "1"
    return f"{'1' if primary else '2'}{primary}\0{tail}"


@dataclass(frozen=True)
class DeviceFilter:
    """What the list shows; each part None (or empty) keeps everything."""

    terms: tuple[str, ...] = ()
    device_types: frozenset[str] | None = None
    owner: str | None = None  # a user id or UNASSIGNED
    hotdesked: frozenset[str] = frozenset()  # device ids `owner` is hotdesked into
    enabled: bool | None = None
    statuses: frozenset[Status] | None = None

    @staticmethod
    def terms_of(text: str) -> tuple[str, ...]:
        return tuple(text.lower().split())

    def is_active(self) -> bool:
        return bool(
            self.terms
            or self.device_types is not None
            or self.owner is not None
            or self.enabled is not None
            or self.statuses is not None
        )

    def narrows(self, previous: DeviceFilter) -> bool:
        """Whether everything this filter keeps was kept by `previous`: true when only the
        search changed and each old term lies inside a new one ('al' -> 'ali')."""
        return (
            bool(previous.terms)
            and self.terms != previous.terms
            and (self.device_types, self.owner, self.hotdesked, self.enabled, self.statuses)
            == (
                previous.device_types,
                previous.owner,
                previous.hotdesked,
                previous.enabled,
                previous.statuses,
            )
            and all(any(old in new for new in self.terms) for old in previous.terms)
        )

    def apply(self, devices: list[DeviceRecord], owners: OwnerIndex) -> list[DeviceRecord]:
        """The devices kept, in their order. Cheap exact tests first, the search last."""
        if self.owner is not None:
            owner = self.owner
            if owner == UNASSIGNED:
                devices = [d for d in devices if not d.owner_id]
            elif self.hotdesked:
                hot = self.hotdesked
                devices = [d for d in devices if d.owner_id == owner or d.device_id in hot]
            else:
                devices = [d for d in devices if d.owner_id == owner]
        if self.device_types is not None:
            types = self.device_types
            devices = [d for d in devices if d.device_type in types]
        if self.enabled is not None:
            enabled = self.enabled
            devices = [d for d in devices if d.enabled is enabled]
        if self.statuses is not None:
            statuses = self.statuses
            devices = [d for d in devices if d.status in statuses]
        for term in self.terms:
            devices = _search(devices, term, owners)
        return devices


def _search(devices: list[DeviceRecord], term: str, owners: OwnerIndex) -> list[DeviceRecord]:
    # one comprehension per case keeps the per-device test inline (no call per device)
    mac = mac_search_form(term)
    users = owners.matching(term)
    if mac and users:
        return [
            d for d in devices if term in d.haystack or mac in d.haystack or d.owner_id in users
        ]
    if mac:
        return [d for d in devices if term in d.haystack or mac in d.haystack]
    if users:
        return [d for d in devices if term in d.haystack or d.owner_id in users]
    return [d for d in devices if term in d.haystack]


def insert_sorted(devices: list[DeviceRecord], fresh: list[DeviceRecord]) -> list[DeviceRecord]:
    """`devices` and `fresh`, both sorted by key, merged into a new sorted list. A page into a
    hundred thousand costs a bisect per new device plus copying the runs between them."""
    if not fresh:
        return devices
    if not devices:
        return list(fresh)
    pieces: list[list[DeviceRecord]] = []
    start = 0
    for device in fresh:
        at = bisect.bisect_left(devices, device.sort_key, lo=start, key=by_sort_key)
        pieces.append(devices[start:at])
        pieces.append([device])
        start = at
    pieces.append(devices[start:])
    return list(itertools.chain.from_iterable(pieces))


def hotdesk_flags(user_devices: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """{device id: hotdesked} from the rows of GET /users/{U}/devices (kazoo-api.md §5.11),
    the shape `DeviceTableModel.set_owner_filter` takes."""
    return {str(d["id"]): d.get("hotdesked") is True for d in user_devices if d.get("id")}
