"""Listing devices (kazoo-api.md §5.1): pages, opaque start keys and query-string filters,
over 1,000 devices in a fresh account of a server of its own."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from helpers import Api, own_server
from helpers import encoded_start_key as encoded
from kazoodesk.simulator.docs import GREGORIAN_OFFSET

COUNT = 1000
TYPES = ["sip_device", "softphone", "fax", None]  # None: no device_type stored


@dataclass
class Fleet:
    api: Api
    path: str  # /accounts/{A}/devices
    docs: dict[str, dict[str, Any]]  # id -> stored document (with pvt_ fields)

    @property
    def ids(self) -> list[str]:
        return sorted(self.docs)


def spec(i: int) -> dict[str, Any]:
    """Device number `i`: types, flags, presence ids and states vary so filters can bite."""
    data: dict[str, Any] = {"name": f"Device {i:04d}", "enabled": i % 3 != 0}
    if TYPES[i % 4]:
        data["device_type"] = TYPES[i % 4]
    if i % 5 == 0:
        data["presence_id"] = f"p{i}"
    elif i % 5 == 1:
        data["presence_id"] = ""  # has the key, not a value
    if i % 7 == 0:
        data["flags"] = ["vip"]
    return data


def _next_second() -> None:
    time.sleep(1.02 - time.time() % 1)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with (
        own_server(tmp_path_factory, "devices-pages", demo=False) as server,
        Api.logged_in(server, server.ready["master"]) as api,
    ):
        master_id = server.ready["master"]["account_id"]
        account = api.ok("PUT", f"/accounts/{master_id}", {"name": "Pages Co"})["data"]
        path = f"/accounts/{account['id']}/devices"
        ids = []
        for i in range(COUNT):
            if i == COUNT // 2:
                _next_second()  # two creation times at least
            ids.append(api.ok("PUT", path, spec(i))["data"]["id"])
        _next_second()
        for device_id in ids[::10]:  # and two modification times
            api.ok("PATCH", f"{path}/{device_id}", {"timezone": "Europe/Oslo"})
        assert server.runner.sim is not None
        reader = server.runner.sim.store.reader
        docs = {d["_id"]: d for d in reader.list_type(account["id"], "device")}
        assert len(docs) == COUNT
        yield Fleet(api, path, docs)


def walk(fleet: Fleet, **params: Any) -> list[dict[str, Any]]:
    """Every page of a listing, following `next_start_key`, checking each page on the way."""
    pages: list[dict[str, Any]] = []
    start: str | None = None
    while True:
        query = {**params, **({"start_key": start} if start else {})}
        body = fleet.api.ok("GET", fleet.path, params=query)
        ids = [row["id"] for row in body["data"]]
        assert ids == sorted(ids, reverse=True), "each page is in descending id order"
        assert body["page_size"] == len(ids)
        assert body.get("start_key") == start
        if pages:
            assert min(ids) > max(row["id"] for row in pages[-1]["data"]), "pages go up"
        pages.append(body)
        start = body.get("next_start_key")
        if start is None:
            return pages
        assert ids, "a page with a next key has rows"
        assert len(pages) <= COUNT


def all_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for page in pages for row in page["data"]]


def test_default_pages_hold_50_devices_and_cover_every_device_once(fleet: Fleet) -> None:
    pages = walk(fleet)
    assert [page["page_size"] for page in pages] == [50] * (COUNT // 50)
    assert sorted(all_ids(pages)) == fleet.ids and len(all_ids(pages)) == COUNT
    first = pages[0]
    assert "start_key" not in first
    assert re.fullmatch(r"[0-9a-f]{32}", first["revision"])
    for page, following in zip(pages, pages[1:], strict=False):
        assert page["next_start_key"] == encoded(min(row["id"] for row in following["data"]))
    assert "next_start_key" not in pages[-1]


def test_next_start_key_is_the_opaque_erlang_term_of_the_next_id(fleet: Fleet) -> None:
    body = fleet.api.ok("GET", fleet.path, params={"page_size": 3})
    assert [row["id"] for row in body["data"]] == fleet.ids[2::-1]
    key = body["next_start_key"]
    assert key.startswith("g20AAAAg") and "=" not in key
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert raw == b"\x83m\x00\x00\x00\x20" + fleet.ids[3].encode()


def test_a_raw_device_id_works_as_start_key_and_is_echoed_encoded(fleet: Fleet) -> None:
    raw = fleet.ids[100]
    body = fleet.api.ok("GET", fleet.path, params={"start_key": raw, "page_size": 10})
    assert [row["id"] for row in body["data"]] == fleet.ids[100:110][::-1]
    assert body["start_key"] == encoded(raw)
    assert body["next_start_key"] == encoded(fleet.ids[110])
    same = fleet.api.ok("GET", fleet.path, params={"start_key": encoded(raw), "page_size": 10})
    assert same["data"] == body["data"] and same["start_key"] == encoded(raw)


def test_the_last_page_has_no_next_key(fleet: Fleet) -> None:
    body = fleet.api.ok("GET", fleet.path, params={"start_key": fleet.ids[-5]})
    assert [row["id"] for row in body["data"]] == fleet.ids[-5:][::-1]
    assert body["page_size"] == 5 and "next_start_key" not in body


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [("abc", 50), ("0", 50), ("-3", 50), ("", 50), ("7", 7), ("7.4", 7), ("999", 999)],
)
def test_page_size(fleet: Fleet, page_size: str, expected: int) -> None:
    body = fleet.api.ok("GET", fleet.path, params={"page_size": page_size})
    assert body["page_size"] == expected
    assert [row["id"] for row in body["data"]] == fleet.ids[:expected][::-1]
    assert body["next_start_key"] == encoded(fleet.ids[expected])


def test_a_page_as_large_as_the_listing_has_no_next_key(fleet: Fleet) -> None:
    body = fleet.api.ok("GET", fleet.path, params={"page_size": COUNT})
    assert body["page_size"] == COUNT and "next_start_key" not in body


def test_paginate_false_returns_everything_without_page_keys(fleet: Fleet) -> None:
    body = fleet.api.ok("GET", fleet.path, params={"paginate": "false", "page_size": 5})
    assert [row["id"] for row in body["data"]] == fleet.ids[::-1]
    assert not {"page_size", "start_key", "next_start_key"} & set(body)


def test_v1_never_paginates(fleet: Fleet) -> None:
    v1 = fleet.api.server.api.replace("/v2", "/v1") + fleet.path
    reply = fleet.api.http.get(
        v1, params={"page_size": 5}, headers={"X-Auth-Token": fleet.api.token or ""}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert len(body["data"]) == COUNT
    assert not {"page_size", "start_key", "next_start_key"} & set(body)


def test_listing_rows(fleet: Fleet) -> None:
    rows = {
        row["id"]: row
        for row in fleet.api.ok("GET", fleet.path, params={"paginate": "false"})["data"]
    }
    for device_id, doc in list(fleet.docs.items())[:40]:
        expected = {
            "id": device_id,
            "name": doc["name"],
            "mac_address": "",
            "enabled": doc["enabled"],
            "device_type": doc.get("device_type", "sip_device"),
            "flags": doc.get("flags", []),
        }
        assert rows[device_id] == expected


# ---- filters -----------------------------------------------------------------------------


def present(doc: dict[str, Any], key: str) -> bool:
    return doc.get(key) not in (None, "", [], {})


def stamp(fleet: Fleet, field: str, pick: Callable[[list[int]], int]) -> int:
    """The earliest or latest `pvt_created`/`pvt_modified` of the fleet (there are two at least)."""
    stamps = sorted({doc[field] for doc in fleet.docs.values()})
    assert len(stamps) >= 2, f"the fleet needs two {field} values"
    return pick(stamps)


def first(stamps: list[int]) -> int:
    return stamps[0]


def last(stamps: list[int]) -> int:
    return stamps[-1]


TIMES = {
    "FIRST_CREATED": ("pvt_created", first),
    "LAST_CREATED": ("pvt_created", last),
    "FIRST_MODIFIED": ("pvt_modified", first),
    "LAST_MODIFIED": ("pvt_modified", last),
}


Case = tuple[dict[str, str], Callable[[dict[str, Any], "Fleet"], bool]]

FILTERS: dict[str, Case] = {
    "type": ({"filter_device_type": "softphone"}, lambda d, f: d.get("device_type") == "softphone"),
    "not type": (
        {"filter_not_device_type": "softphone"},
        lambda d, f: d.get("device_type") != "softphone",
    ),
    "type list": (
        {"filter_device_type": '["fax","softphone"]'},
        lambda d, f: d.get("device_type") in {"fax", "softphone"},
    ),
    "listed default is not stored": (
        {"filter_device_type": "sip_device"},
        lambda d, f: d.get("device_type") == "sip_device",
    ),
    "boolean": ({"filter_enabled": "true"}, lambda d, f: d["enabled"] is True),
    "has_key": ({"has_key": "presence_id"}, lambda d, f: "presence_id" in d),
    "key_missing": ({"key_missing": "device_type"}, lambda d, f: "device_type" not in d),
    "has_value": ({"has_value": "presence_id"}, lambda d, f: present(d, "presence_id")),
    "value_missing": ({"value_missing": "presence_id"}, lambda d, f: not present(d, "presence_id")),
    "has_value false": ({"has_value": "enabled"}, lambda d, f: d["enabled"] is True),
    "nested and private": (
        {"filter_pvt_type": "device", "filter_sip.method": "password"},
        lambda d, f: True,
    ),
    "and": (
        {"has_key": "flags", "filter_enabled": "false", "filter_not_device_type": "fax"},
        lambda d, f: "flags" in d and not d["enabled"] and d.get("device_type") != "fax",
    ),
    "created_from": (
        {"created_from": "LAST_CREATED"},
        lambda d, f: d["pvt_created"] >= stamp(f, "pvt_created", last),
    ),
    "created_to": (
        {"created_to": "FIRST_CREATED"},
        lambda d, f: d["pvt_created"] <= stamp(f, "pvt_created", first),
    ),
    "modified_from": (
        {"modified_from": "LAST_MODIFIED"},
        lambda d, f: d["pvt_modified"] >= stamp(f, "pvt_modified", last),
    ),
    "modified_to": (
        {"modified_to": "FIRST_MODIFIED", "filter_device_type": "fax"},
        lambda d, f: (
            d["pvt_modified"] <= stamp(f, "pvt_modified", first) and d.get("device_type") == "fax"
        ),
    ),
}
PARTIAL = {"created_from", "created_to", "modified_from", "modified_to"}


def _params(fleet: Fleet, params: dict[str, str]) -> dict[str, str]:
    """The query, with the time placeholders replaced by the fleet's stamps."""
    return {k: str(stamp(fleet, *TIMES[v])) if v in TIMES else v for k, v in params.items()}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_walking_a_filtered_listing_yields_each_match_once(fleet: Fleet, name: str) -> None:
    params, wanted = FILTERS[name]
    expected = sorted(i for i, doc in fleet.docs.items() if wanted(doc, fleet))
    assert 0 < len(expected) <= COUNT
    if name in PARTIAL:
        assert len(expected) < COUNT, "the time filter must leave some devices out"
    pages = walk(fleet, **_params(fleet, params))
    found = all_ids(pages)
    assert sorted(found) == expected and len(found) == len(expected)
    assert all(page["page_size"] == 50 for page in pages[:-1])


def test_a_small_page_size_walks_a_filtered_listing_too(fleet: Fleet) -> None:
    expected = sorted(i for i, d in fleet.docs.items() if d.get("device_type") == "fax")
    pages = walk(fleet, filter_device_type="fax", page_size="7")
    assert all_ids(pages) and sorted(all_ids(pages)) == expected
    assert [page["page_size"] for page in pages[:-1]] == [7] * (len(pages) - 1)


def test_time_filters_are_gregorian_seconds(fleet: Fleet) -> None:
    newest = max(doc["pvt_created"] for doc in fleet.docs.values())
    assert newest - GREGORIAN_OFFSET == pytest.approx(time.time(), abs=600)
    unix = fleet.api.ok("GET", fleet.path, params={"created_from": str(newest - GREGORIAN_OFFSET)})
    assert unix["page_size"] == 50  # a Unix time is long before any Gregorian stamp


@pytest.mark.parametrize(
    "params",
    [
        {"filter_device_type": "nothing-like-this"},
        {"created_from": "yesterday"},
        {"modified_to": "1"},
        {"has_key": "mobile"},
        {"filter_enabled": "[true]"},  # JSON list members are compared as strings
    ],
)
def test_a_filter_matching_nothing_gives_an_empty_page(
    fleet: Fleet, params: dict[str, str]
) -> None:
    reply = fleet.api.call("GET", fleet.path, params=params)
    assert reply.status_code == 200
    body = reply.json()
    assert body["data"] == [] and body["page_size"] == 0
    assert not {"revision", "next_start_key", "start_key"} & set(body)
    assert "etag" not in reply.headers
