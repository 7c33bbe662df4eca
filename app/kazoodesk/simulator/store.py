"""SQLite document store shaped like the CouchDB databases Kazoo keeps.

Documents are JSON bodies with `_id`, `_rev` (`N-<32 hex>`) and `pvt_` fields, grouped by
account. Secondary lookups ("views": SIP usernames, MACs, owners, API keys...) live in one
indexed table that each write keeps in step with the document, so every lookup is an index
seek. Reads run on the caller's thread; writes go through one writer thread that commits
whatever is queued in a single durable transaction (group commit), each write isolated in
its own savepoint so one failure does not undo its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA_VERSION = 1
MAX_BATCH = 512

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    account_id TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    rev TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS docs_by_type ON docs (account_id, type, id) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS views (
    view TEXT NOT NULL,
    key TEXT NOT NULL,
    account_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX IF NOT EXISTS views_by_key ON views (view, key, account_id, doc_id);
CREATE INDEX IF NOT EXISTS views_by_doc ON views (account_id, doc_id);
-- registrations live in the SIP registrar (simulator/sip.py), not in the store
DROP TABLE IF EXISTS registrations;
"""


class StoreError(Exception):
    """The database cannot be opened or used (unwritable, corrupt, newer format)."""


class Conflict(Exception):
    """The document changed, or already exists, under a write (CouchDB's 409)."""


@dataclass(frozen=True)
class ViewRow:
    """One entry of a view: `key` found in `view` points at a document."""

    view: str
    key: str
    value: Any = None


# Told, on the writer thread, which (account_id, doc_id) a commit wrote, before any writer of
# that batch is answered: in-memory caches of documents drop those entries.
CommitListener = Callable[[list[tuple[str, str]]], None]

# A function that computes the view rows of a document (for its type); set by the owner of
# the store so that the store itself knows nothing about devices or users.
Indexer = Callable[[dict[str, Any]], list[ViewRow]]


def next_rev(rev: str | None, body: dict[str, Any]) -> str:
    generation = int(rev.split("-", 1)[0]) + 1 if rev else 1
    digest = hashlib.md5(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{generation}-{digest}"


class Queries:
    """Read queries over one connection (the reader's, or a writer's transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, account_id: str, doc_id: str, *, deleted: bool = False) -> dict[str, Any] | None:
        """The stored document (with `_rev` and `pvt_` fields), or None; deleted ones if asked."""
        row = self.conn.execute(
            "SELECT body, deleted FROM docs WHERE account_id = ? AND id = ?", (account_id, doc_id)
        ).fetchone()
        if row is None or (row[1] and not deleted):
            return None
        return json.loads(row[0])

    def exists(self, account_id: str, doc_id: str) -> bool:
        """True when the id is taken, even by a soft-deleted document."""
        row = self.conn.execute(
            "SELECT 1 FROM docs WHERE account_id = ? AND id = ?", (account_id, doc_id)
        ).fetchone()
        return row is not None

    def list_type(
        self, account_id: str, doc_type: str, start_id: str = "", limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Live documents of one type in ascending id order from `start_id` on."""
        sql = (
            "SELECT body FROM docs WHERE account_id = ? AND type = ? AND deleted = 0 AND id >= ?"
            " ORDER BY id"
        )
        params: tuple[Any, ...] = (account_id, doc_type, start_id)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        for (body,) in self.conn.execute(sql, params):
            yield json.loads(body)

    def lookup(
        self, view: str, key: str, account_id: str | None = None
    ) -> list[tuple[str, str, Any]]:
        """(account_id, doc_id, value) of every live document that `view` files under `key`."""
        if account_id is None:
            rows = self.conn.execute(
                "SELECT account_id, doc_id, value FROM views WHERE view = ? AND key = ?",
                (view, key),
            )
        else:
            rows = self.conn.execute(
                "SELECT account_id, doc_id, value FROM views"
                " WHERE view = ? AND key = ? AND account_id = ? ORDER BY doc_id",
                (view, key, account_id),
            )
        return [(a, d, json.loads(v)) for a, d, v in rows]

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])


class Transaction(Queries):
    """What a write function gets: the reads of `Queries` plus document writes."""

    def __init__(self, conn: sqlite3.Connection, indexer: Indexer) -> None:
        super().__init__(conn)
        self._indexer = indexer
        # (account_id, doc_id) of every document written in the current batch
        self.touched: list[tuple[str, str]] = []

    def put(self, account_id: str, doc: dict[str, Any], expected_rev: str | None) -> dict[str, Any]:
        """Save `doc` (with `_id`) if the stored revision is still `expected_rev`.

        `expected_rev=None` means create: the id must be unused, even by a deleted document.
        Returns the saved document with its new `_rev`.
        """
        doc_id = doc["_id"]
        self.touched.append((account_id, doc_id))
        row = self.conn.execute(
            "SELECT rev FROM docs WHERE account_id = ? AND id = ?", (account_id, doc_id)
        ).fetchone()
        current = row[0] if row else None
        if current != expected_rev:
            raise Conflict(doc_id)
        saved = {k: v for k, v in doc.items() if k != "_rev"}
        saved["_rev"] = next_rev(current, saved)
        deleted = 1 if saved.get("pvt_deleted") else 0
        self.conn.execute(
            "INSERT OR REPLACE INTO docs (account_id, id, type, rev, deleted, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                account_id,
                doc_id,
                saved.get("pvt_type", ""),
                saved["_rev"],
                deleted,
                json.dumps(saved, separators=(",", ":")),
            ),
        )
        self.conn.execute(
            "DELETE FROM views WHERE account_id = ? AND doc_id = ?", (account_id, doc_id)
        )
        if not deleted:
            self.index(account_id, saved)
        return saved

    def index(self, account_id: str, doc: dict[str, Any]) -> None:
        """Add the view rows of a live document."""
        self.conn.executemany(
            "INSERT INTO views (view, key, account_id, doc_id, value) VALUES (?, ?, ?, ?, ?)",
            [
                (r.view, r.key, account_id, doc["_id"], json.dumps(r.value))
                for r in self._indexer(doc)
            ],
        )

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def purge(self, account_id: str, doc_id: str) -> None:
        """Remove a document for good (a hard delete)."""
        self.touched.append((account_id, doc_id))
        self.conn.execute("DELETE FROM docs WHERE account_id = ? AND id = ?", (account_id, doc_id))
        self.conn.execute(
            "DELETE FROM views WHERE account_id = ? AND doc_id = ?", (account_id, doc_id)
        )


@dataclass
class _Job:
    fn: Callable[[Transaction], Any]
    future: Future[Any]


def _connect(path: Path, opened: list[sqlite3.Connection]) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    opened.append(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    # 16 MB of page cache (default 2 MB): the B-tree pages of 100,000 devices' keys stay hot.
    conn.execute("PRAGMA cache_size=-16384")
    # FULL makes each commit reach the disk before a write is acknowledged.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _check_integrity(conn: sqlite3.Connection) -> None:
    """Refuse a damaged file at once rather than fail on some later read (~0.1 s at 100k docs)."""
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = " ".join(str(problems[0]).split()) if problems else "no answer"
        raise sqlite3.DatabaseError(f"database disk image is malformed ({first})")


class DocumentStore:
    """The store: synchronous reads through `reader`, asynchronous durable writes via `write`."""

    def __init__(self, path: Path, indexer: Indexer, index_version: str = "1") -> None:
        """`index_version` names what `indexer` computes: when it differs from the one the
        database was indexed with, every view is rebuilt from the documents on open."""
        self.path = path
        self._indexer = indexer
        self._closed = False
        # Transactions committed by the writer; several writes share one when they queue up.
        self.commits = 0
        opened: list[sqlite3.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer_conn = _connect(path, opened)
            _check_integrity(self._writer_conn)
            self._writer_conn.executescript(_DDL)
            self._check_version()
            self._reindex_if_changed(index_version)
            self.reader = Queries(_connect(path, opened))
            self.reader.conn.execute("PRAGMA query_only=1")
        except (sqlite3.Error, OSError, StoreError) as exc:
            for conn in opened:
                conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, OSError):
                raise StoreError(f"cannot create the data directory {path.parent}: {exc}") from exc
            raise StoreError(f"cannot use the database {path}: {exc}") from exc
        self._listeners: list[CommitListener] = []
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run_writer, name="store-writer", daemon=True)
        self._thread.start()

    def _reindex_if_changed(self, index_version: str) -> None:
        conn = self._writer_conn
        row = conn.execute("SELECT value FROM meta WHERE key = 'index_version'").fetchone()
        if row is not None and row[0] == index_version:
            return
        tx = Transaction(conn, self._indexer)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM views")
        for account_id, body in conn.execute(
            "SELECT account_id, body FROM docs WHERE deleted = 0"
        ).fetchall():
            tx.index(account_id, json.loads(body))
        tx.set_meta("index_version", index_version)
        conn.execute("COMMIT")

    def _check_version(self) -> None:
        conn = self._writer_conn
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer KazooDesk (format {row[0]})")

    def on_commit(self, listener: CommitListener) -> None:
        """Call `listener(touched)` after each commit, before the writes are acknowledged."""
        self._listeners.append(listener)

    def setting(self, key: str, make: Callable[[], str]) -> str:
        """A value kept in the database for good (made by `make` the first time)."""
        found = self.reader.meta(key)
        if found is not None:
            return found
        value = make()
        self.write_sync(lambda tx: tx.set_meta(key, value))
        return value

    def is_empty(self) -> bool:
        return self.reader.conn.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is None

    async def write(self, fn: Callable[[Transaction], T]) -> T:
        """Run `fn` in a write transaction; return its result once the commit is durable."""
        return await asyncio.wrap_future(self._submit(fn))

    def write_sync(self, fn: Callable[[Transaction], T]) -> T:
        """`write` for code outside an event loop (seeding, tools)."""
        return self._submit(fn).result()

    def _submit(self, fn: Callable[[Transaction], T]) -> Future[T]:
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        future: Future[T] = Future()
        self._jobs.put(_Job(fn, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the writer and close the database."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join()
        self.reader.conn.close()
        self._writer_conn.close()

    def _run_writer(self) -> None:
        tx = Transaction(self._writer_conn, self._indexer)
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop after this batch
                    break
                batch.append(job)
            # A write whose waiter was cancelled before it ran is dropped (nobody was told it
            # happened); the others can no longer be cancelled, so their results always land.
            batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
            try:
                self._commit_batch(tx, batch)
            except Exception as exc:  # a bug here must not leave writers waiting forever
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(StoreError(f"store writer error: {exc!r}"))

    def _commit_batch(self, tx: Transaction, batch: list[_Job]) -> None:
        if not batch:
            return
        conn = self._writer_conn
        outcomes: list[tuple[bool, Any]] = []
        tx.touched.clear()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append((True, job.fn(tx)))
                    conn.execute("RELEASE job")
                except Exception as exc:  # handed to the waiting request as its result
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            if conn.in_transaction:
                # (when even this fails, SQLite has rolled back by itself)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            failure = StoreError(f"write failed: {exc}")
            outcomes = [(False, failure)] * len(batch)
        # (rolled-back writes are reported too: forgetting an unchanged entry is harmless)
        for listener in self._listeners:
            listener(list(tx.touched))
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
