"""The offline device list: what the window last listed for a server and account, on disk.

At start the window shows it at once, marked as cached, while it connects; the live list then
replaces it row for row. The cache is a convenience, never a source of truth: a missing,
corrupt, foreign or old-format file is ignored without a word, and nothing secret goes in
(listing rows carry no passwords; keys that look secret are dropped all the same, and users
are reduced to the names the list shows).

Layout, in the user cache dir (`default_cache_dir()/lists`):

- `<sha256(server key, account id)>.json.gz`: one listing, two lines of JSON: the head (when,
  users, registered ids, the row count and the rows at the top of the list) and the rest of
  the rows, so a start reads (and decompresses) only the head before its first paint;
- `login-<sha256(login key)>.json`: the account the last session of that login landed in,
  so a start can find the listing before it has logged in (it learns the account id then).

A server key is the API URL, or for the embedded demo a name that stays the same across runs
(its port changes each time). Qt-free: the window reads it before anything else is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import json
import os
import re
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

FORMAT = 2
MAX_ROWS = 20_000  # larger listings are not cached (a start would spend seconds showing them)
HEAD_ROWS = 100  # rows in a listing's head: a screenful and more
MAX_FILE_BYTES = 16 * 1024 * 1024  # compressed; a larger file is not read
USER_FIELDS = ("id", "first_name", "last_name", "username")
_SECRET_KEY = re.compile(r"pass(word|wd)|secret|token|api_?key|credential|^pin$", re.IGNORECASE)


class CacheKeys(NamedTuple):
    """Where a listing is filed: the server (`server`), and the login that finds it (`login`)."""

    server: str
    login: str


def demo_keys(name: str) -> CacheKeys:
    """The embedded demo server's keys: `name` (its store, not its port) for both."""
    key = f"demo:{name}"
    return CacheKeys(key, key)


def remote_keys(server: str, login: str) -> CacheKeys:
    """A Kazoo server's keys: its API URL, and `login` (server, account and user, or the
    fact of an API key: never the secret itself)."""
    return CacheKeys(server.rstrip("/"), login)


@dataclass(frozen=True)
class CachedList:
    server: str
    account_id: str
    saved_at: float  # seconds since the epoch
    rows: list[dict[str, Any]]  # all of them, or with `load(head_only=True)` the head's
    users: list[dict[str, Any]]
    registered: set[str] | None  # None: the status was not known
    count: int  # rows in the listing

    @property
    def complete(self) -> bool:
        """Whether `rows` holds every row (not just the head)."""
        return len(self.rows) >= self.count

    def saved_text(self, now: float | None = None) -> str:
        """'12:04' today, '3 Mar 12:04' this year, '3 Mar 2024 12:04' before."""
        saved, today = time.localtime(self.saved_at), time.localtime(now)
        if saved[:3] == today[:3]:
            return time.strftime("%H:%M", saved)
        if saved.tm_year == today.tm_year:
            return f"{saved.tm_mday} {time.strftime('%b %H:%M', saved)}"
        return f"{saved.tm_mday} {time.strftime('%b %Y %H:%M', saved)}"


class ListCache:
    """Listings filed by server and account in `directory`."""

    def __init__(
        self, directory: Path, max_rows: int = MAX_ROWS, head_rows: int = HEAD_ROWS
    ) -> None:
        self.directory = directory
        self.max_rows = max_rows
        self.head_rows = head_rows

    # ---- reading ---------------------------------------------------------------------------

    def account_of(self, login: str) -> str | None:
        """The account the last session of `login` landed in, if known."""
        try:
            data = json.loads(self._login_path(login).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        account_id = data.get("account_id") if isinstance(data, dict) else None
        return account_id if isinstance(account_id, str) and account_id else None

    def load(self, server: str, account_id: str, *, head_only: bool = False) -> CachedList | None:
        """The listing of `account_id` on `server` (with `head_only`, only the rows of its
        head: the rest is not even decompressed); None when there is none usable."""
        path = self._list_path(server, account_id)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None
            with gzip.open(path, "rt", encoding="utf-8") as file:
                head = _parse_head(json.loads(file.readline()), server, account_id)
                if head is None or head_only or head.complete:
                    return head
                rest = _parse_rows(json.loads(file.readline()))
        except (OSError, EOFError, ValueError, zlib.error, TypeError, KeyError, AttributeError):
            return None
        if rest is None or len(head.rows) + len(rest) != head.count:
            return None
        return dataclasses.replace(head, rows=head.rows + rest)

    def load_rest(self, head: CachedList) -> list[dict[str, Any]] | None:
        """The rows after `head` (from `load(head_only=True)`), if the file still holds that
        listing (None otherwise, or when it cannot be read)."""
        full = self.load(head.server, head.account_id)
        if full is None or full.saved_at != head.saved_at:
            return None
        return full.rows[len(head.rows) :]

    def load_for(self, keys: CacheKeys, *, head_only: bool = False) -> CachedList | None:
        """The listing the last session of `keys.login` showed first, if any."""
        account_id = self.account_of(keys.login)
        if account_id is None:
            return None
        return self.load(keys.server, account_id, head_only=head_only)

    # ---- writing ---------------------------------------------------------------------------

    def save(
        self,
        keys: CacheKeys,
        account_id: str,
        rows: Iterable[Mapping[str, Any]],
        users: Iterable[Mapping[str, Any]],
        registered: Iterable[str] | None,
        *,
        login_account: bool = False,
        first: Iterable[str] = (),
    ) -> bool:
        """File a full listing of `account_id` (atomically); with `login_account`, remember it
        as where `keys.login` lands. The rows of the ids in `first` (those at the top of the
        list now) are filed first, for a start to show them first. False (and any older
        listing removed) when it is over `max_rows` or cannot be written; never raises for a
        disk problem."""
        path = self._list_path(keys.server, account_id)
        rows = [_clean(row) for row in rows if isinstance(row.get("id"), str)]
        try:
            if len(rows) > self.max_rows:
                path.unlink(missing_ok=True)
                return False
            top = {device_id: at for at, device_id in enumerate(first)}
            if top:
                end = len(top)
                rows.sort(key=lambda row: top.get(row["id"], end))  # stable: the rest as listed
            head = {
                "format": FORMAT,
                "server": keys.server,
                "account_id": account_id,
                "saved_at": time.time(),
                "count": len(rows),
                "users": [
                    {k: user[k] for k in USER_FIELDS if isinstance(user.get(k), str)}
                    for user in users
                ],
                "registered": None if registered is None else sorted(registered),
                "rows": rows[: self.head_rows],
            }
            # one JSON document a line (JSON text holds no raw newline)
            text = "\n".join(
                json.dumps(part, separators=(",", ":"), ensure_ascii=False)
                for part in (head, rows[self.head_rows :])
            )
            _write_atomically(path, gzip.compress(text.encode("utf-8"), compresslevel=5))
            if login_account:
                pointer = json.dumps({"format": FORMAT, "account_id": account_id})
                _write_atomically(self._login_path(keys.login), pointer.encode("utf-8"))
        except OSError:
            return False
        return True

    # ---- paths -----------------------------------------------------------------------------

    def _list_path(self, server: str, account_id: str) -> Path:
        return self.directory / f"{_digest(server, account_id)}.json.gz"

    def _login_path(self, login: str) -> Path:
        return self.directory / f"login-{_digest(login)}.json"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:40]


def _clean(value: Any) -> Any:
    """`value` without the entries whose keys look secret, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _parse_head(data: Any, server: str, account_id: str) -> CachedList | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("server") != server or data.get("account_id") != account_id:
        return None  # another listing's file under this name: not ours to show
    rows = _parse_rows(data["rows"])
    users = data["users"]
    registered = data.get("registered")
    saved_at = data["saved_at"]
    count = data["count"]
    if rows is None or not isinstance(users, list):
        return None
    if not isinstance(saved_at, int | float) or not isinstance(count, int):
        return None
    if registered is not None and not (
        isinstance(registered, list) and all(isinstance(i, str) for i in registered)
    ):
        return None
    return CachedList(
        server=server,
        account_id=account_id,
        saved_at=float(saved_at),
        rows=rows,
        users=[user for user in users if isinstance(user, dict)],
        registered=None if registered is None else set(registered),
        count=count,
    )


def _parse_rows(rows: Any) -> list[dict[str, Any]] | None:
    if not isinstance(rows, list):
        return None
    if not all(isinstance(row, dict) and isinstance(row.get("id"), str) for row in rows):
        return None
    return rows


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
