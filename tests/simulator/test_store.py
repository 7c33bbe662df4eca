"""The SQLite document store on its own: revisions, conflicts, views, group commit, indexes."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kazoodesk.simulator.store import (
    Conflict,
    DocumentStore,
    Queries,
    StoreError,
    Transaction,
    ViewRow,
)
from kazoodesk.simulator.views import index_document

ACCOUNT = "a" * 32
OTHER_ACCOUNT = "b" * 32
REV = re.compile(r"^(\d+)-[0-9a-f]{32}$")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentStore]:
    opened = DocumentStore(tmp_path / "store.sqlite3", index_document)
    yield opened
    opened.close()


def device(doc_id: str, **fields: Any) -> dict[str, Any]:
    return {"_id": doc_id, "pvt_type": "device", "pvt_account_id": ACCOUNT, **fields}


def put(
    store: DocumentStore, doc: dict[str, Any], rev: str | None = None, account: str = ACCOUNT
) -> dict[str, Any]:
    return store.write_sync(lambda tx: tx.put(account, doc, rev))


def generation(rev: str) -> int:
    match = REV.match(rev)
    assert match, rev
    return int(match.group(1))


def doc_ids(rows: list[tuple[str, str, Any]]) -> list[str]:
    return [doc_id for _account, doc_id, _value in rows]


# ---- documents and revisions -----------------------------------------------------------------


def test_put_get_and_increasing_revisions(store: DocumentStore) -> None:
    first = put(store, device("d1", name="Desk"))
    assert generation(first["_rev"]) == 1
    assert store.reader.get(ACCOUNT, "d1") == first
    assert store.reader.get(OTHER_ACCOUNT, "d1") is None

    second = put(store, {**first, "name": "Desk 2"}, first["_rev"])
    third = put(store, {**second, "name": "Desk 3"}, second["_rev"])
    assert [generation(d["_rev"]) for d in (first, second, third)] == [1, 2, 3]
    assert len({first["_rev"], second["_rev"], third["_rev"]}) == 3
    stored = store.reader.get(ACCOUNT, "d1")
    assert stored is not None and stored["name"] == "Desk 3" and stored["_rev"] == third["_rev"]


def test_rev_in_the_document_is_ignored_in_favour_of_expected_rev(store: DocumentStore) -> None:
    first = put(store, device("d1", name="Desk"))
    saved = put(store, {**first, "_rev": "99-" + "0" * 32}, first["_rev"])
    assert generation(saved["_rev"]) == 2


def test_conflict_on_stale_revision(store: DocumentStore) -> None:
    first = put(store, device("d1", name="Desk"))
    put(store, {**first, "name": "Newer"}, first["_rev"])
    with pytest.raises(Conflict):
        put(store, {**first, "name": "Stale"}, first["_rev"])
    with pytest.raises(Conflict):
        put(store, device("missing", name="x"), first["_rev"])  # update of a missing doc
    stored = store.reader.get(ACCOUNT, "d1")
    assert stored is not None and stored["name"] == "Newer"


def test_conflict_on_creating_an_existing_or_soft_deleted_id(store: DocumentStore) -> None:
    first = put(store, device("d1", name="Desk"))
    with pytest.raises(Conflict):
        put(store, device("d1", name="Again"))
    put(store, {**first, "pvt_deleted": True}, first["_rev"])
    assert store.reader.get(ACCOUNT, "d1") is None
    deleted = store.reader.get(ACCOUNT, "d1", deleted=True)
    assert deleted is not None and deleted["pvt_deleted"] is True
    assert store.reader.exists(ACCOUNT, "d1")
    with pytest.raises(Conflict):
        put(store, device("d1", name="Reborn"))
    # the same id in another account is another document
    assert generation(put(store, device("d1"), account=OTHER_ACCOUNT)["_rev"]) == 1


def test_purge_frees_the_id(store: DocumentStore) -> None:
    put(store, device("d1", sip={"username": "purged"}))
    store.write_sync(lambda tx: tx.purge(ACCOUNT, "d1"))
    assert not store.reader.exists(ACCOUNT, "d1")
    assert store.reader.lookup("sip_credentials", "purged") == []
    assert generation(put(store, device("d1"))["_rev"]) == 1


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = DocumentStore(path, index_document)
    saved = put(store, device("d1", sip={"username": "kept"}))
    secret = store.setting("secret", lambda: "first")
    store.close()
    store = DocumentStore(path, index_document)
    try:
        assert store.reader.get(ACCOUNT, "d1") == saved
        assert doc_ids(store.reader.lookup("sip_credentials", "kept")) == ["d1"]
        assert store.setting("secret", lambda: "second") == secret == "first"
        assert generation(put(store, saved, saved["_rev"])["_rev"]) == 2
    finally:
        store.close()


def test_close_commits_queued_writes_and_refuses_later_ones(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = DocumentStore(path, index_document)
    futures = [
        store._submit(lambda tx, i=i: tx.put(ACCOUNT, device(f"q{i:03}"), None)) for i in range(50)
    ]
    store.close()
    assert all(f.done() and f.exception() is None for f in futures)
    with pytest.raises(StoreError):
        store.write_sync(lambda tx: None)
    store.close()  # a second close does nothing
    store = DocumentStore(path, index_document)
    try:
        assert len(list(store.reader.list_type(ACCOUNT, "device"))) == 50
    finally:
        store.close()


# ---- views -------------------------------------------------------------------------------------


def test_views_follow_the_document(store: DocumentStore) -> None:
    doc = put(
        store,
        device(
            "d1",
            sip={"username": "Alice.Desk", "password": "x" * 8},
            mac_address="0004f2a1b203",
            owner_id="u-alice",
            hotdesk={"users": {"u-emma": {}}},
        ),
    )
    reader = store.reader
    assert doc_ids(reader.lookup("sip_credentials", "alice.desk")) == ["d1"]
    assert doc_ids(reader.lookup("sip_credentials", "alice.desk", ACCOUNT)) == ["d1"]
    assert reader.lookup("sip_credentials", "alice.desk", OTHER_ACCOUNT) == []
    assert doc_ids(reader.lookup("mac_address", "0004f2a1b203", ACCOUNT)) == ["d1"]
    assert reader.lookup("device_users", "u-alice") == [(ACCOUNT, "d1", False)]
    assert reader.lookup("device_users", "u-emma") == [(ACCOUNT, "d1", True)]

    changed = {
        **doc,
        "sip": {"username": "bob.desk", "password": "x" * 8},
        "mac_address": "0004f2a1b204",
        "owner_id": "u-bob",
    }
    del changed["hotdesk"]
    changed = put(store, changed, doc["_rev"])
    assert reader.lookup("sip_credentials", "alice.desk") == []
    assert doc_ids(reader.lookup("sip_credentials", "bob.desk")) == ["d1"]
    assert reader.lookup("mac_address", "0004f2a1b203") == []
    assert doc_ids(reader.lookup("mac_address", "0004f2a1b204")) == ["d1"]
    assert reader.lookup("device_users", "u-alice") == []
    assert reader.lookup("device_users", "u-emma") == []
    assert reader.lookup("device_users", "u-bob") == [(ACCOUNT, "d1", False)]

    put(store, {**changed, "pvt_deleted": True}, changed["_rev"])
    for view, key in [
        ("sip_credentials", "bob.desk"),
        ("mac_address", "0004f2a1b204"),
        ("device_users", "u-bob"),
    ]:
        assert reader.lookup(view, key) == [], view


def test_view_lookup_in_an_account_is_ordered_by_doc_id(store: DocumentStore) -> None:
    for doc_id in ("d3", "d1", "d2"):
        put(store, device(doc_id, owner_id="u-shared"))
    put(store, device("d0", owner_id="u-shared"), account=OTHER_ACCOUNT)
    assert doc_ids(store.reader.lookup("device_users", "u-shared", ACCOUNT)) == ["d1", "d2", "d3"]
    assert sorted(doc_ids(store.reader.lookup("device_users", "u-shared"))) == [
        "d0",
        "d1",
        "d2",
        "d3",
    ]


def test_view_rows_of_a_failed_write_are_rolled_back(store: DocumentStore) -> None:
    def half_done(tx: Transaction) -> None:
        tx.put(ACCOUNT, device("d1", sip={"username": "ghost"}), None)
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        store.write_sync(half_done)
    assert not store.reader.exists(ACCOUNT, "d1")
    assert store.reader.lookup("sip_credentials", "ghost") == []


# ---- list_type -------------------------------------------------------------------------------


def test_list_type_order_start_id_and_limit(store: DocumentStore) -> None:
    ids = [f"{n:032x}" for n in (7, 3, 11, 1, 9, 5)]
    for doc_id in ids:
        put(store, device(doc_id))
    put(store, {"_id": "f" * 32, "pvt_type": "user"})  # another type
    put(store, device("0" * 32), account=OTHER_ACCOUNT)  # another account
    gone = put(store, device(f"{4:032x}"))
    put(store, {**gone, "pvt_deleted": True}, gone["_rev"])  # soft-deleted

    def listed(**kwargs: Any) -> list[str]:
        return [d["_id"] for d in store.reader.list_type(ACCOUNT, "device", **kwargs)]

    assert listed() == sorted(ids)
    assert listed(start_id=f"{5:032x}") == [f"{n:032x}" for n in (5, 7, 9, 11)]  # inclusive
    assert listed(start_id=f"{6:032x}") == [f"{n:032x}" for n in (7, 9, 11)]
    assert listed(start_id=f"{5:032x}", limit=2) == [f"{n:032x}" for n in (5, 7)]
    assert listed(start_id="g") == []
    assert [d["_id"] for d in store.reader.list_type(ACCOUNT, "user")] == ["f" * 32]


# ---- group commit ----------------------------------------------------------------------------


def test_many_concurrent_writes_all_land_in_few_commits(store: DocumentStore) -> None:
    count = 300

    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(
                store.write(lambda tx, i=i: tx.put(ACCOUNT, device(f"c{i:04}"), None))
                for i in range(count)
            )
        )

    before = store.commits
    saved = asyncio.run(main())
    assert [d["_id"] for d in saved] == [f"c{i:04}" for i in range(count)]
    listed = [d["_id"] for d in store.reader.list_type(ACCOUNT, "device")]
    assert listed == [f"c{i:04}" for i in range(count)]
    # queued writes share transactions (one fsync each): far fewer commits than writes
    assert store.commits - before < count / 3


def _blocked_writer(store: DocumentStore) -> tuple[threading.Event, threading.Event]:
    """Occupy the writer thread so that the next writes queue up into one batch."""
    entered, release = threading.Event(), threading.Event()

    def block(tx: Transaction) -> None:
        entered.set()
        assert release.wait(10)

    store._submit(block)
    assert entered.wait(10)
    return entered, release


def test_a_failing_write_fails_alone_within_its_batch(store: DocumentStore) -> None:
    existing = put(store, device("exists"))

    def broken(tx: Transaction) -> None:
        tx.put(ACCOUNT, device("broken", sip={"username": "broken"}), None)
        raise ValueError("boom")

    async def main() -> list[Any]:
        _entered, release = _blocked_writer(store)
        commits = store.commits
        tasks = [
            asyncio.ensure_future(store.write(lambda tx: tx.put(ACCOUNT, device("ok1"), None))),
            asyncio.ensure_future(store.write(broken)),
            asyncio.ensure_future(store.write(lambda tx: tx.put(ACCOUNT, device("exists"), None))),
            asyncio.ensure_future(
                store.write(lambda tx: tx.put(ACCOUNT, {**existing, "name": "x"}, "1-" + "0" * 32))
            ),
            asyncio.ensure_future(store.write(lambda tx: tx.put(ACCOUNT, device("ok2"), None))),
        ]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert store.commits - commits <= 2  # the blocker's batch and the queued one
        return results

    ok1, broken_result, duplicate, stale, ok2 = asyncio.run(main())
    assert ok1["_id"] == "ok1" and ok2["_id"] == "ok2"
    assert isinstance(broken_result, ValueError)
    assert isinstance(duplicate, Conflict) and isinstance(stale, Conflict)
    assert store.reader.exists(ACCOUNT, "ok1") and store.reader.exists(ACCOUNT, "ok2")
    assert not store.reader.exists(ACCOUNT, "broken")
    assert store.reader.lookup("sip_credentials", "broken") == []
    assert store.reader.get(ACCOUNT, "exists") == existing


def test_a_cancelled_write_does_not_stop_the_writer(store: DocumentStore) -> None:
    async def main() -> None:
        _entered, release = _blocked_writer(store)
        doomed = asyncio.ensure_future(
            store.write(lambda tx: tx.put(ACCOUNT, device("doomed"), None))
        )
        await asyncio.sleep(0.01)
        doomed.cancel()
        await asyncio.sleep(0.01)
        release.set()
        saved = await asyncio.wait_for(
            store.write(lambda tx: tx.put(ACCOUNT, device("after"), None)), 10
        )
        assert saved["_id"] == "after"

    asyncio.run(main())
    assert not store.reader.exists(ACCOUNT, "doomed")  # never acknowledged, never written
    assert store.reader.exists(ACCOUNT, "after")


def test_write_results_and_errors_reach_the_caller(store: DocumentStore) -> None:
    assert store.write_sync(lambda tx: 42) == 42
    with pytest.raises(KeyError):
        store.write_sync(lambda tx: {}["missing"])
    assert store.write_sync(lambda tx: tx.exists(ACCOUNT, "nothing")) is False


# ---- opening -----------------------------------------------------------------------------------


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"this is not a database\x00" * 500)
    with pytest.raises(StoreError, match="cannot use the database"):
        DocumentStore(path, index_document)


def test_damaged_pages_are_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = DocumentStore(path, index_document)
    store.write_sync(
        lambda tx: [tx.put(ACCOUNT, device(f"d{i:04}", name="x" * 200), None) for i in range(300)]
    )
    store.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 20 * 4096
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = bytes(range(256)) * 16  # one page of garbage
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="malformed"):
        DocumentStore(path, index_document)


def test_newer_format_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    DocumentStore(path, index_document).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        DocumentStore(path, index_document)


def test_directory_under_a_file_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        DocumentStore(blocker / "sub" / "store.sqlite3", index_document)


# ---- index use (O(log n) lookups) ---------------------------------------------------------------


def _plans(conn: sqlite3.Connection, statements: list[str]) -> list[str]:
    plans = []
    for sql in statements:
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        plans.append(" | ".join(row[3] for row in rows))
    return plans


def _traced(queries: Queries, run: Any) -> list[str]:
    """The SQL (with its parameters inlined) that `run()` executes on the reader."""
    seen: list[str] = []
    queries.conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        queries.conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def filled(store: DocumentStore) -> DocumentStore:
    def fill(tx: Transaction) -> None:
        for account in (ACCOUNT, OTHER_ACCOUNT):
            for i in range(400):
                tx.put(
                    account,
                    device(
                        f"{i:032x}",
                        sip={"username": f"user{i}"},
                        mac_address=f"{i:012x}",
                        owner_id=f"u{i % 7}",
                    ),
                    None,
                )
            for i in range(20):
                tx.put(
                    account, {"_id": f"u{i:031x}", "pvt_type": "user", "username": f"u{i}"}, None
                )

    store.write_sync(fill)
    return store


@pytest.mark.parametrize(
    "name",
    ["get", "exists", "list page", "list page from start_id", "view lookup", "view in account"],
)
def test_hot_queries_use_an_index(filled: DocumentStore, name: str) -> None:
    reader = filled.reader
    start = f"{200:032x}"
    runs = {
        "get": lambda: reader.get(ACCOUNT, start),
        "exists": lambda: reader.exists(ACCOUNT, start),
        # the device list handler reads the type listing lazily and stops after a page
        "list page": lambda: next(iter(reader.list_type(ACCOUNT, "device"))),
        "list page from start_id": lambda: list(reader.list_type(ACCOUNT, "device", start, 51)),
        "view lookup": lambda: reader.lookup("sip_credentials", "user5"),
        "view in account": lambda: reader.lookup("mac_address", f"{5:012x}", ACCOUNT),
    }
    statements = _traced(reader, runs[name])
    assert statements, "no query ran"
    for plan in _plans(reader.conn, statements):
        assert re.search(r"SEARCH (docs|views) USING (COVERING )?(INDEX|PRIMARY KEY)", plan), plan
        assert not re.search(r"\bSCAN (docs|views)\b", plan), plan
        assert "TEMP B-TREE" not in plan, plan  # ordered by the index, no sort of all rows


def test_write_path_uses_indexes(filled: DocumentStore) -> None:
    """Saving a document touches its row and its view rows through indexes only."""
    seen: list[str] = []
    conn = filled._writer_conn
    doc = filled.reader.get(ACCOUNT, f"{3:032x}")
    assert doc is not None

    def save(tx: Transaction) -> None:
        conn.set_trace_callback(seen.append)
        try:
            tx.put(ACCOUNT, {**doc, "name": "renamed"}, doc["_rev"])
        finally:
            conn.set_trace_callback(None)

    filled.write_sync(save)
    statements = [s for s in seen if s.split()[0].upper() in {"SELECT", "DELETE"}]
    assert statements
    for plan in _plans(filled.reader.conn, statements):
        assert not re.search(r"\bSCAN (docs|views)\b", plan), plan


# ---- commit listeners and the account cache -----------------------------------------------------


def test_commit_listener_hears_of_writes_before_they_are_acknowledged(
    store: DocumentStore,
) -> None:
    heard: list[tuple[str, str]] = []
    acknowledged_before: list[bool] = []
    future_box: list[Any] = []

    def listener(touched: list[tuple[str, str]]) -> None:
        heard.extend(touched)
        if future_box:
            acknowledged_before.append(future_box[0].done())

    store.on_commit(listener)
    future_box.append(store._submit(lambda tx: tx.put(ACCOUNT, device("d1"), None)))
    future_box[0].result(10)
    assert heard == [(ACCOUNT, "d1")]
    assert acknowledged_before == [False]
    heard.clear()
    store.write_sync(lambda tx: tx.purge(ACCOUNT, "d1"))
    assert heard == [(ACCOUNT, "d1")]


def test_account_directory_sees_every_committed_change(store: DocumentStore) -> None:
    from kazoodesk.simulator.service import AccountDirectory

    directory = AccountDirectory(store)
    account = {"_id": ACCOUNT, "pvt_type": "account", "name": "First", "pvt_tree": []}
    assert directory.get(ACCOUNT) is None
    saved = put(store, account)
    first = directory.get(ACCOUNT)
    assert first is not None and first["name"] == "First"
    assert directory.get(ACCOUNT) is first  # served from memory
    renamed = put(store, {**saved, "name": "Second"}, saved["_rev"])
    second = directory.get(ACCOUNT)
    assert second is not None and second["name"] == "Second"
    put(store, device("d1"))  # another document of the account: the cache entry stays
    assert directory.get(ACCOUNT) is second
    put(store, {**renamed, "pvt_deleted": True}, renamed["_rev"])
    assert directory.get(ACCOUNT) is None
    # a device id is not an account
    assert directory.get("d1") is None


def test_account_read_racing_a_commit_is_not_cached(store: DocumentStore) -> None:
    from kazoodesk.simulator.service import AccountDirectory

    directory = AccountDirectory(store)
    saved = put(store, {"_id": ACCOUNT, "pvt_type": "account", "name": "Old"})
    real_get = store.reader.get

    def get_then_commit(account_id: str, doc_id: str, **kwargs: Any) -> Any:
        doc = real_get(account_id, doc_id, **kwargs)  # the old version...
        put(store, {**saved, "name": "New"}, saved["_rev"])  # ...then a commit lands
        return doc

    store.reader.get = get_then_commit  # type: ignore[method-assign]
    try:
        assert directory.get(ACCOUNT)["name"] == "Old"  # type: ignore[index]
    finally:
        store.reader.get = real_get  # type: ignore[method-assign]
    assert directory.get(ACCOUNT)["name"] == "New"  # type: ignore[index]


# ---- users' login views -------------------------------------------------------------------


def test_disabled_users_are_out_of_the_login_views(store: DocumentStore) -> None:
    user = {
        "_id": "u1",
        "pvt_type": "user",
        "username": "Off.Line",
        "pvt_md5_auth": "m" * 32,
        "pvt_sha1_auth": "s" * 40,
        "enabled": False,
    }
    saved = put(store, user)
    assert store.reader.lookup("creds_by_md5", "m" * 32) == []
    assert store.reader.lookup("creds_by_sha", "s" * 40) == []
    assert doc_ids(store.reader.lookup("user_username", "off.line")) == ["u1"]
    put(store, {**saved, "enabled": True}, saved["_rev"])
    assert doc_ids(store.reader.lookup("creds_by_md5", "m" * 32)) == ["u1"]
    assert doc_ids(store.reader.lookup("creds_by_sha", "s" * 40)) == ["u1"]


def test_a_failing_commit_listener_fails_the_batch_but_not_the_writer(
    store: DocumentStore,
) -> None:
    calls: list[int] = []

    def listener(touched: list[tuple[str, str]]) -> None:
        calls.append(len(touched))
        if len(calls) == 1:
            raise RuntimeError("listener bug")

    store.on_commit(listener)
    with pytest.raises(StoreError, match="listener bug"):
        put(store, device("d1"))
    assert put(store, device("d2"))["_id"] == "d2"  # the writer thread is still there
    assert calls == [1, 1]


def test_views_are_rebuilt_when_the_index_version_changes(tmp_path: Path) -> None:
    path = tmp_path / "reindex.sqlite3"

    def only_names(doc: dict[str, Any]) -> list[ViewRow]:
        return [ViewRow("by_name", doc["name"])]

    def names_and_colours(doc: dict[str, Any]) -> list[ViewRow]:
        return [ViewRow("by_name", doc["name"]), ViewRow("by_colour", doc["colour"])]

    store = DocumentStore(path, only_names, "1")
    store.write_sync(lambda tx: tx.put("acct", {"_id": "a", "name": "desk", "colour": "red"}, None))
    store.close()

    same = DocumentStore(path, names_and_colours, "1")
    assert same.reader.lookup("by_colour", "red") == []  # same version: left as indexed
    same.close()

    rebuilt = DocumentStore(path, names_and_colours, "2")
    assert rebuilt.reader.lookup("by_colour", "red") == [("acct", "a", None)]
    assert rebuilt.reader.lookup("by_name", "desk") == [("acct", "a", None)]
    rebuilt.close()
