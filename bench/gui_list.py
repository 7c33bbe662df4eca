"""Device list benchmark: 100,000 synthetic devices in DeviceTableModel behind a shown
DeviceListView (offscreen unless QT_QPA_PLATFORM says otherwise).

Measures, in milliseconds: appending the rows in pages of 500 (each page is what the UI thread
does when a page arrives), the status refresh (`set_registered`) with few and with many
devices changing, search keystrokes typed into the search box ("a", "al", "ali", ...)
including the repaint, clearing the search, filters, and sorting by each column. Two baselines
run on the same rows in the same process, so figures can be compared on a noisy machine: a bare
list comprehension over the same lowercase strings (the floor for any Python search), and a
QSortFilterProxyModel whose filterAcceptsRow is Python (the approach the model avoids).

    python bench/gui_list.py [--devices 100000] [--page 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from PySide6.QtCore import (  # noqa: E402
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QApplication  # noqa: E402

from kazoodesk.ui.devices.device_list_view import DeviceListView  # noqa: E402
from kazoodesk.ui.devices.device_records import Column  # noqa: E402
from support import GcWatch  # noqa: E402

TYPES = (
    ["sip_device"] * 12
    + ["softphone"] * 4
    + ["smartphone"] * 2
    + ["cellphone", "landline", "fax", "ata", "sip_uri", "mobile", "teammate", "meta"]
)
FIRST = [
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
]
LAST = [
    "Chen",
    "Martinez",
    "Okafor",
    "Kim",
    "Larsen",
    "Novak",
    "Silva",
    "Tanaka",
    "Weber",
    "Ahmed",
    "Rossi",
    "Dubois",
]
PLACES = [
    "Desk",
    "Reception",
    "Warehouse",
    "Lab",
    "Office",
    "Lobby",
    "Kitchen",
    "Studio",
    "Dock",
    "Floor",
    "Booth",
]
MODELS = "Yealink T54W|Yealink T46U|Polycom VVX 450|Snom D785|Cisco SPA504G|Grandstream GXP2170"


def synthetic(count: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`count` listing rows (kazoo-api.md §5.1) owned by 1/100 as many users."""
    rnd = random.Random(seed)
    users = [
        {
            "id": f"{rnd.getrandbits(128):032x}",
            "first_name": rnd.choice(FIRST),
            "last_name": rnd.choice(LAST),
            "username": f"user{n}",
        }
        for n in range(max(1, count // 100))
    ]
    models = MODELS.split("|")
    rows = []
    for n in range(count):
        device_type = rnd.choice(TYPES)
        owner = rnd.choice(users) if rnd.random() < 0.8 else None
        place = f"{rnd.choice(PLACES)} {n}"
        name = f"{owner['first_name']}'s {place}" if owner else place
        if device_type == "sip_device":
            name += f" – {rnd.choice(models)}"
        row: dict[str, Any] = {
            "id": f"{rnd.getrandbits(128):032x}",
            "name": name,
            "mac_address": "",
            "enabled": rnd.random() > 0.03,
            "device_type": device_type,
            "flags": [],
        }
        if device_type in ("sip_device", "ata", "fax"):
            mac = "".join(rnd.choice("0123456789abcdef") for _ in range(12))
            forms = (mac, mac.upper(), ":".join(mac[i : i + 2] for i in range(0, 12, 2)))
            row["mac_address"] = rnd.choice(forms)
        if device_type not in ("cellphone", "landline", "sip_uri", "mobile"):
            row["username"] = "user_" + "".join(rnd.choices(string.ascii_lowercase, k=8))
        if owner:
            row["owner_id"] = owner["id"]
        rows.append(row)
    return rows, users


def timed(*steps: Callable[[], object]) -> float:
    """Milliseconds the steps take, run one after the other."""
    start = time.perf_counter()
    for step in steps:
        step()
    return (time.perf_counter() - start) * 1000


def matching(haystacks: list[str], term: str) -> list[str]:
    return [h for h in haystacks if term in h]


class _PlainModel(QAbstractTableModel):
    """The baseline's source: rows with their name as the only column."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        return self.rows[index.row()]["name"] if role == Qt.ItemDataRole.DisplayRole else None


class _PythonFilterProxy(QSortFilterProxyModel):
    """The approach not taken: a Python call per row, over a precomputed haystack."""

    def __init__(self, haystacks: list[str]) -> None:
        super().__init__()
        self.haystacks = haystacks
        self.term = ""

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return self.term in self.haystacks[row]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    app = QApplication(sys.argv[:1])
    app.setOrganizationName("kazoodesk-bench")
    app.setApplicationName("kazoodesk-bench")
    rows, users = synthetic(args.devices, args.seed)
    # pages as they come off the wire: the loader decodes one, feeds it and lets it go, so
    # the benchmark must not keep 100,000 row dicts alive either
    pages = [json.dumps(rows[i : i + args.page]) for i in range(0, len(rows), args.page)]
    first_ids = [rows[0]["id"], rows[1]["id"]]
    some_mac = next(r["mac_address"] for r in rows if len(r["mac_address"]) == 17)
    del rows
    gc.collect()

    view = DeviceListView("bench/gui_list")
    view.resize(1200, 800)
    view.show()
    app.processEvents()
    model = view.model
    view.set_users(users)
    print(f"device list benchmark: {args.devices:,} devices, pages of {args.page}")

    watch = GcWatch()
    appended = []
    for number, text in enumerate(pages):
        page = json.loads(text)
        appended.append(timed(partial(model.append_rows, page), app.processEvents))
        if number == 0:
            # a selection the model carries through every later layout change, as in real use
            view.select_ids(first_ids)
    print(
        f"append page:    mean {statistics.mean(appended):6.1f} ms"
        f"   median {statistics.median(appended):6.1f} ms   max {max(appended):6.1f} ms"
        f"   last {appended[-1]:6.1f} ms   total {sum(appended) / 1000:5.2f} s"
    )
    print(f"  garbage collector while loading: {watch.report()}")
    all_ids = [r["id"] for r in model.rows()]
    model.set_registered(all_ids[::2])
    app.processEvents()
    # what an idle moment after loading gives the model (it prepares the search then)
    idle = time.perf_counter() + 0.5
    while time.perf_counter() < idle:
        app.processEvents()

    # the window's status refresh (every 15 s) hands over the registered ids it was told
    half = set(all_ids[::2])
    flipped = set(half)
    for device_id in all_ids[:20]:
        flipped ^= {device_id}  # 20 devices came or went
    print("status refresh (set_registered + repaint), ms:")
    for label, registered in (
        ("nothing changed", half),
        ("20 devices changed", flipped),
        ("20 changed back", half),
        ("half went away", set()),
        ("half came back", half),
    ):
        ms = timed(partial(model.set_registered, registered), app.processEvents)
        print(f"  {label:20} {ms:6.1f} ms")

    def keystroke(text: str) -> float:
        return timed(partial(view.search.setText, text), app.processEvents)

    print("search keystrokes, ms (model + view repaint):")
    for word in ("alice", "desk", "yealink"):
        typed = [(word[:n], keystroke(word[:n])) for n in range(1, len(word) + 1)]
        shown = model.rowCount()
        cells = "  ".join(f"{t!r} {ms:5.1f}" for t, ms in typed)
        print(f"  {cells}   -> {shown:,} shown")
        print(f"  clear search {keystroke(''):6.1f} ms")
    typed_mac = some_mac.upper().replace(":", "-")[:8]
    ms = keystroke(typed_mac)
    print(f"  MAC typed as {typed_mac!r} {ms:6.1f} ms -> {model.rowCount():,} shown")
    keystroke("")

    owner = users[0]["id"]
    print("filters, ms:")
    for label, act in (
        ("type sip_device", lambda: model.set_type_filter({"sip_device"})),
        ("type all", lambda: model.set_type_filter(None)),
        ("owner one user", lambda: model.set_owner_filter(owner)),
        ("owner all", lambda: model.set_owner_filter(None)),
        ("enabled only", lambda: model.set_enabled_filter(True)),
        ("enabled any", lambda: model.set_enabled_filter(None)),
    ):
        print(f"  {label:18} {timed(act, app.processEvents):6.1f} ms")

    print("sort (header click, with repaint), ms:")
    for column in (*Column, Column.NAME):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            ms = timed(partial(view.table.sortByColumn, column, order), app.processEvents)
            print(f"  {column.name.lower():9} {order.name[:-5].lower():10} {ms:6.1f} ms")

    haystacks = [
        f"{r['name']}\n{r['device_type']}\n{r.get('username', '')}\n{r['mac_address']}".lower()
        for r in model.rows()
    ]
    print("baselines on the same rows, ms:")
    for term in ("a", "al", "ali"):
        ms = timed(partial(matching, haystacks, term))
        print(f"  bare list comprehension                         {term!r:6} {ms:6.1f} ms")
    source = _PlainModel([{"name": h} for h in haystacks])
    proxy = _PythonFilterProxy(haystacks)
    proxy.setSourceModel(source)
    proxy.rowCount()
    for term in ("a", "al", "ali"):
        proxy.term = term
        ms = timed(proxy.invalidate, proxy.rowCount)
        print(f"  QSortFilterProxyModel + Python filterAcceptsRow {term!r:6} {ms:6.1f} ms")
    view.close()
    # detached before exit: PySide6 6.12 has crashed at exit with this 100,000-row proxy
    proxy.setSourceModel(_PlainModel([]))


if __name__ == "__main__":
    main()
