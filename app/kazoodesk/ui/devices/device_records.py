"""The device list's data without Qt: one record per device with its precomputed search text
and sort key, the filters as list comprehensions, and sorted merging.

Everything here is written for 100,000 devices: per-device work happens once when a row
arrives; a keystroke or a filter change is a few list comprehensions. Details that matter at
that size, each measured with bench/gui_list.py:

* a search reads a plain list of haystack strings kept beside the list of devices and keeps
  both with `itertools.compress`: touching every device object as well costs twice the time;
* those strings are copied next to each other in memory, in list order (`compact_haystacks`):
  scanning strings scattered over the heap is three times slower;
* haystacks and search terms are folded to one-byte strings where possible (typographic
  dashes and quotes become ASCII): `term in haystack` with a one-byte term and a two-byte
  haystack allocates on every test, ten times slower;
* a device is one object the garbage collector tracks (no row dict, no lists), since a full
  collection walks every tracked object and its pause grows with them.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import compress
from operator import attrgetter
from typing import Any

from kazoodesk.ui.devices.device_types import (
    DEVICE_TYPES,
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
_HEX = re.compile(r"[0-9a-f]+")
_ID_TERM_MIN = 6
by_sort_key = attrgetter("sort_key")
_FOLD = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2009": " ",
        "\u202f": " ",
        "\x00": " ",  # compact_haystacks joins on it
    }
)
# what a listing row holds besides the fields the list reads
_READ = frozenset({"id", "name", "device_type", "username", "mac_address", "owner_id", "enabled"})
_NO_FLAGS: dict[str, Any] = {"flags": []}
_NO_FLAGS_JSON = json.dumps(_NO_FLAGS, separators=(",", ":"))


def fold(text: str) -> str:
    """Lowercase, with typographic dashes, quotes and spaces made ASCII."""
    return text.translate(_FOLD).lower()


def natural_key(text: str) -> str:
    """A case-insensitive key where 'Desk 9' sorts before 'Desk 10'."""
    lowered = text.lower()
    if not any(c.isdigit() for c in lowered):
        return lowered
    return _DIGIT_RUN.sub(lambda m: m.group().rjust(12, "0"), lowered)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class OwnerIndex:
    """The account's users: display names, logins and name sort keys."""

    names: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    sort_keys: dict[str, str] = field(default_factory=dict)

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
            name = full or username or user_id
            index.names[user_id] = name
            index.usernames[user_id] = username
            index.sort_keys[user_id] = natural_key(name)
        return index


class DeviceRecord:
    """One listing row (kazoo-api.md §5.1) and what filters and sorts read from it."""

    __slots__ = (
        "device_id",
        "name",
        "device_type",
        "username",
        "stored_mac",
        "mac",
        "owner_id",
        "enabled",
        "extra",
        "registrable",
        "status",
        "name_key",
        "haystack",
        "sort_key",
    )

    def __init__(
        self, row: Mapping[str, Any], registered: set[str] | None, owners: OwnerIndex
    ) -> None:
        self.sort_key: str | int = ""
        self.status = Status.UNKNOWN
        self.update(row, registered, owners)

    def update(
        self, row: Mapping[str, Any], registered: set[str] | None, owners: OwnerIndex
    ) -> None:
        self.device_id = str(row["id"])
        self.name = _text(row.get("name"))
        self.device_type = device_type_of(row)
        self.username = _text(row.get("username"))
        self.stored_mac = _text(row.get("mac_address"))
        self.mac = format_mac(self.stored_mac)
        self.owner_id = _text(row.get("owner_id"))
        self.enabled = row.get("enabled", True) is not False
        # the rest (flags, call_recording...) as JSON text: untracked by the garbage collector
        rest = {k: v for k, v in row.items() if k not in _READ}
        if not rest:
            self.extra = ""
        elif rest == _NO_FLAGS:
            self.extra = _NO_FLAGS_JSON  # the common case, shared
        else:
            self.extra = json.dumps(rest, separators=(",", ":"))
        self.registrable = can_register(self.device_type, self.username)
        self.set_status(registered)
        self.name_key = natural_key(self.name)
        self.set_haystack(owners)

    def set_haystack(self, owners: OwnerIndex) -> None:
        """The folded text a search looks in: every text column (the MAC as bare digits, so
        `_mask` matches it typed with or without separators), and the owner's login."""
        label = type_label(self.device_type)
        parts = [self.name, label, self.username, mac_digits(self.stored_mac)]
        if label.lower() != self.device_type:
            parts.append(self.device_type)
        if self.owner_id:
            parts.append(owners.names.get(self.owner_id, ""))
            parts.append(owners.usernames.get(self.owner_id, ""))
        self.haystack = fold("\n".join(parts))

    def as_row(self) -> dict[str, Any]:
        """The listing row this record was made from (absent values left out, as Kazoo does)."""
        row: dict[str, Any] = {"id": self.device_id, "name": self.name}
        if self.username:
            row["username"] = self.username
        row["mac_address"] = self.stored_mac
        if self.owner_id:
            row["owner_id"] = self.owner_id
        row["enabled"] = self.enabled
        row["device_type"] = self.device_type
        if self.extra:
            row.update(json.loads(self.extra))
        return row

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


def total_key(device: DeviceRecord) -> tuple[str | int, str, str]:
    """The order of the list: the sort column's key, then name, then id (unique)."""
    return device.sort_key, device.name_key, device.device_id


def name_order_key(device: DeviceRecord) -> tuple[str, str]:
    return device.name_key, device.device_id


def sort_key(device: DeviceRecord, column: Column, owners: OwnerIndex) -> str | int:
    """The device's key for `column`, short and cheap: ties are left to the name order the
    full sort starts from (see `total_key`). Empty values sort last ('a…' < 'b')."""
    if column == Column.NAME:
        return device.name_key
    if column == Column.STATUS:
        return int(device.status)
    if column == Column.TYPE:
        return _TYPE_KEYS.get(device.device_type) or type_label(device.device_type).lower()
    if column == Column.USERNAME:
        return "a" + device.username.lower() if device.username else "b"
    if column == Column.MAC:
        return "a" + device.mac.lower() if device.mac else "b"
    if column == Column.OWNER:
        if not device.owner_id:
            return "b"
        # a user not loaded (yet) sorts after the known ones
        return "a" + owners.sort_keys.get(device.owner_id, "\x7f" + device.owner_id)
    return 0 if device.enabled else 1


_TYPE_KEYS = {t: type_label(t).lower() for t in DEVICE_TYPES}


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
        return tuple(fold(text).split())

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
            # a short term was not looked up in ids, a longer one is: not a narrowing
            and not any(_is_id_term(new) for new in self.terms)
        )

    def narrow(self, devices: list[DeviceRecord]) -> list[DeviceRecord]:
        """The devices kept by every part but the search, in their order."""
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
        return devices

    def narrows_nothing(self) -> bool:
        return (
            self.device_types is None
            and self.owner is None
            and self.enabled is None
            and self.statuses is None
        )

    def search(self, devices: Shown) -> Shown:
        """The devices (with their haystacks) whose text holds every term."""
        records, haystacks = devices
        for term in self.terms:
            mask = _mask(term, records, haystacks)
            records = list(compress(records, mask))
            haystacks = list(compress(haystacks, mask))
        return records, haystacks

    def apply(
        self, devices: list[DeviceRecord], haystacks: list[str] | None = None
    ) -> tuple[list[DeviceRecord], list[str] | None]:
        """The devices kept, in their order, with their haystacks when the search computed
        them; `haystacks` are those of `devices` if the caller has them. Exact tests first, the
        search last."""
        if not self.narrows_nothing():
            devices = self.narrow(devices)
            haystacks = None
        if not self.terms:
            return devices, haystacks
        if haystacks is None:
            haystacks = compact_haystacks(devices)
        return self.search((devices, haystacks))

    def keeps(self, device: DeviceRecord) -> bool:
        return bool(self.apply([device])[0])


# devices and their haystacks, index for index
Shown = tuple[list[DeviceRecord], list[str]]


def compact_haystacks(devices: list[DeviceRecord]) -> list[str]:
    """The devices' haystacks as fresh strings laid out in list order (see the module doc)."""
    if not devices:
        return []
    return "\0".join([d.haystack for d in devices]).split("\0")


def _mask(term: str, devices: list[DeviceRecord], haystacks: list[str]) -> list[bool]:
    mac = mac_search_form(term)  # haystacks hold MAC digits only
    if _is_id_term(term):
        return [
            term in h or (mac is not None and mac in h) or term in d.device_id
            for d, h in zip(devices, haystacks, strict=True)
        ]
    if mac is not None:
        return [term in h or mac in h for h in haystacks]
    return [term in h for h in haystacks]


def _is_id_term(term: str) -> bool:
    """Terms of 6+ hex digits are looked up in device ids too."""
    return len(term) >= _ID_TERM_MIN and _HEX.fullmatch(term) is not None


def insert_sorted(
    devices: list[DeviceRecord],
    fresh: list[DeviceRecord],
    key: Callable[[DeviceRecord], Any] = total_key,
) -> list[DeviceRecord]:
    """`devices` and `fresh`, both sorted by `key`, merged into a new sorted list. A page into
    a hundred thousand costs a bisect per new device plus copying the runs between them."""
    if not fresh:
        return devices
    if not devices:
        return list(fresh)
    pieces: list[list[DeviceRecord]] = []
    start = 0
    for device in fresh:
        at = bisect.bisect_left(devices, key(device), lo=start, key=key)
        pieces.append(devices[start:at])
        pieces.append([device])
        start = at
    pieces.append(devices[start:])
    return list(itertools.chain.from_iterable(pieces))


def position(devices: list[DeviceRecord], device: DeviceRecord) -> int:
    """Where `device` is in `devices` (sorted by `total_key`), or -1."""
    at = bisect.bisect_left(devices, total_key(device), key=total_key)
    return at if at < len(devices) and devices[at] is device else -1


def hotdesk_flags(user_devices: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """{device id: hotdesked} from the rows of GET /users/{U}/devices (kazoo-api.md §5.11),
    the shape `DeviceTableModel.set_owner_filter` takes."""
    return {str(d["id"]): d.get("hotdesked") is True for d in user_devices if d.get("id")}
