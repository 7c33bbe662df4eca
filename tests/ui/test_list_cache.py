"""The offline device list: written after a load, shown at the next start before connecting
(marked cached, read-only), then replaced row for row by the live list; never another
account's, never a secret, and a bad file is ignored."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import RunningDemo, screenshot

from helpers import Api, Server, own_server_fixture
from kazoodesk.__main__ import EmbeddedDemo
from kazoodesk.list_cache import FORMAT, CacheKeys, ListCache, demo_keys, remote_keys
from kazoodesk.profiles import Profile, ProfileStore
from kazoodesk.resources import resource_path
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.main_window import MainWindow

server = own_server_fixture("list-cache-store")


CACHE_NAME = "list-cache-test"


class CachedDemo(RunningDemo):
    """The test's running simulator, filed in the cache under a fixed name like the app's
    embedded demo (whose port changes every run)."""

    def __init__(self, server: Server) -> None:
        super().__init__(server)
        self.cache_name = CACHE_NAME


@pytest.fixture
def cache(tmp_path: Path) -> ListCache:
    return ListCache(tmp_path / "cache")


def new_window(qtbot: Any, server: Server, tmp_path: Path, cache: ListCache) -> MainWindow:
    window = MainWindow(ProfileStore(tmp_path), CachedDemo(server), cache)
    qtbot.addWidget(window)
    return window


def names(window: MainWindow) -> list[str]:
    model = window.devices.model
    return [str(model.index(row, Column.NAME).data()) for row in range(model.rowCount())]


def listed(server: Server) -> dict[str, str]:
    """Device id -> name, as the server lists them now."""
    with Api.logged_in(server) as api:
        rows = api.ok("GET", f"{api.account}/devices?paginate=false")["data"]
    return {row["id"]: row["name"] for row in rows}


def load_live(run_async: Any, window: MainWindow) -> None:
    assert run_async(window.start_demo(), timeout=30)
    run_async(window.wait_cache_saved())


def close(run_async: Any, window: MainWindow) -> None:
    if window.editor is not None:
        window.editor.clear()
    if window.session is not None:
        run_async(window.session.close())


@pytest.fixture
def loaded_once(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path, cache: ListCache
) -> Iterator[MainWindow]:
    """A window that listed the demo company once (so the cache holds it), then closed."""
    window = new_window(qtbot, server, tmp_path, cache)
    window.show()
    load_live(run_async, window)
    yield window
    close(run_async, window)


def test_a_full_load_is_written_to_the_cache(
    loaded_once: MainWindow, server: Server, cache: ListCache
) -> None:
    keys = loaded_once.demo_cache_keys()
    assert keys == demo_keys(CACHE_NAME)
    cached = cache.load_for(keys)

    assert cached is not None
    assert {row["id"]: row["name"] for row in cached.rows} == listed(server)
    assert cached.account_id == loaded_once.session.client.account_id  # type: ignore[union-attr]
    assert {u["id"] for u in cached.users} == {u["id"] for u in loaded_once.users}
    assert cached.registered is not None
    # filed with the rows at the top of the list first, for the next start's first paint
    top = loaded_once.devices.model.ids_at(range(5))
    assert [row["id"] for row in cached.rows[:5]] == top


def test_the_next_start_shows_the_cached_list_then_the_live_one_replaces_it(
    qtbot: Any, run_async: Any, loaded_once: MainWindow, server: Server, tmp_path: Path
) -> None:
    before = names(loaded_once)
    close(run_async, loaded_once)
    # meanwhile on the server: one device renamed, one deleted, one added
    with Api.logged_in(server) as api:
        devices = api.ok("GET", f"{api.account}/devices?paginate=false")["data"]
        renamed, deleted, kept = devices[0]["id"], devices[1]["id"], devices[2]["id"]
        document = api.ok("GET", f"{api.account}/devices/{renamed}")["data"]
        api.ok("POST", f"{api.account}/devices/{renamed}", {**document, "name": "Renamed Desk"})
        api.ok("DELETE", f"{api.account}/devices/{deleted}")
        api.ok("PUT", f"{api.account}/devices", {"name": "Added Later"})

    window = new_window(qtbot, server, tmp_path, loaded_once.cache)  # type: ignore[arg-type]
    assert window.show_cached_list(window.demo_cache_keys())
    window.show()
    qtbot.waitExposed(window)

    # before connecting: the rows of last time, marked, nothing to act with
    assert window.session is None and window.showing_cached()
    assert names(window) == before
    assert window.cache_notice.isVisible()
    assert "Cached list · last loaded" in window.cache_notice.text()
    assert "connecting" in window.cache_notice.text()
    window.devices.select_ids([kept])
    assert window.devices.selected_ids() == [kept]
    assert not window.edit_action.isEnabled() and not window.delete_action.isEnabled()
    assert not window.new_action.isEnabled()
    screenshot(window, "main_window_cached")

    # the live load merges into the list: it is never emptied or reset on the way
    model = window.devices.model
    resets: list[int] = []
    counts: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(model.rowCount()))
    model.layoutChanged.connect(lambda: counts.append(model.rowCount()))
    model.rowsRemoved.connect(lambda *_: counts.append(model.rowCount()))
    with qtbot.waitSignal(window.devicesLoaded, timeout=30_000):
        assert run_async(window.start_demo(), timeout=30)

    live = listed(server)
    assert sorted(names(window)) == sorted(live.values())
    assert "Renamed Desk" in names(window) and "Added Later" in names(window)
    assert deleted not in window.devices.model.ids_at(range(model.rowCount()))
    assert resets == [] and min(counts, default=1) > 0
    assert window.devices.selected_ids() == [kept]  # the selection survived the swap
    assert not window.showing_cached() and not window.cache_notice.isVisible()
    assert window.edit_action.isEnabled()
    # and the cache now holds the live list
    run_async(window.wait_cache_saved())
    cached = window.cache.load_for(window.demo_cache_keys())  # type: ignore[union-attr]
    assert cached is not None and {r["id"]: r["name"] for r in cached.rows} == live
    close(run_async, window)


def test_another_account_does_not_get_this_ones_cached_list(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path, cache: ListCache
) -> None:
    admin = Profile(server.api, "Demo Co", "admin")
    window = new_window(qtbot, server, tmp_path, cache)
    assert run_async(window.connect_remote(admin, server.ready["password"]), timeout=30)
    run_async(window.wait_cache_saved())
    close(run_async, window)
    assert cache.load_for(window.profile_cache_keys(admin)) is not None

    reseller = Profile(server.api, "Acme Telecom", "reseller")
    other = new_window(qtbot, server, tmp_path, cache)
    assert not other.show_cached_list(other.profile_cache_keys(reseller))
    assert other.devices.model.rowCount() == 0 and not other.cache_notice.isVisible()
    # nor the demo login, which is another server as far as the cache knows
    assert not other.show_cached_list(other.demo_cache_keys())


def test_a_cached_list_of_another_account_goes_when_the_live_one_comes(
    qtbot: Any, run_async: Any, server: Server, tmp_path: Path, cache: ListCache
) -> None:
    """The login landed elsewhere than last time: the cached rows are not merged, they go."""
    keys = demo_keys(CACHE_NAME)
    stranger = [{"id": "f" * 32, "name": "Not Yours", "device_type": "sip_device"}]
    assert cache.save(keys, "0" * 32, stranger, [], None, login_account=True)
    window = new_window(qtbot, server, tmp_path, cache)
    assert window.show_cached_list(keys) and names(window) == ["Not Yours"]

    load_live(run_async, window)

    assert sorted(names(window)) == sorted(listed(server).values())
    assert not window.showing_cached() and not window.cache_notice.isVisible()
    close(run_async, window)


CORRUPTIONS = {
    "not gzip": b"this is not a cache",
    "truncated gzip": gzip.compress(b'{"format": 1, "rows": [')[:-9],
    "gzip of garbage": gzip.compress(b"\x00\xff garbage"),
    "old format": gzip.compress(json.dumps({"format": 1, "rows": []}).encode()),
    "wrong types": None,  # filled in below: the right keys with rows that are not rows
    "empty": b"",
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupt_cache_file_is_ignored_without_a_word(
    qtbot: Any,
    run_async: Any,
    loaded_once: MainWindow,
    server: Server,
    tmp_path: Path,
    kind: str,
) -> None:
    cache = loaded_once.cache
    assert cache is not None
    keys = loaded_once.demo_cache_keys()
    account_id = loaded_once.session.client.account_id  # type: ignore[union-attr]
    close(run_async, loaded_once)
    files = list(cache.directory.glob("*.json.gz"))
    assert len(files) == 1
    content = CORRUPTIONS[kind]
    if content is None:
        document = {
            "format": FORMAT,
            "server": keys.server,
            "account_id": account_id,
            "saved_at": 0,
            "count": 2,
            "rows": ["a", 1],
            "users": [],
            "registered": None,
        }
        content = gzip.compress(json.dumps(document).encode())
    files[0].write_bytes(content)

    window = new_window(qtbot, server, tmp_path, cache)
    assert not window.show_cached_list(keys)
    assert window.devices.model.rowCount() == 0 and not window.cache_notice.isVisible()
    load_live(run_async, window)  # and the load writes a good one again
    assert cache.load_for(keys) is not None
    close(run_async, window)


def test_a_long_cached_list_paints_its_head_then_reads_the_rest(
    qtbot: Any, run_async: Any, loaded_once: MainWindow, server: Server, tmp_path: Path
) -> None:
    """Only the head is read before the first paint; the rest comes from a worker."""
    assert loaded_once.cache is not None
    keys = loaded_once.demo_cache_keys()
    full = loaded_once.cache.load_for(keys)
    close(run_async, loaded_once)
    assert full is not None and full.count > 5
    cache = ListCache(loaded_once.cache.directory, head_rows=5)
    # filed again with a head of 5 rows: the first five of the list as it was shown
    top = [row["id"] for row in full.rows[:5]]
    assert cache.save(
        keys, full.account_id, full.rows, full.users, full.registered, login_account=True, first=top
    )
    head = cache.load_for(keys, head_only=True)
    assert head is not None and len(head.rows) == 5 and not head.complete
    assert head.count == full.count

    window = new_window(qtbot, server, tmp_path, cache)
    assert window.show_cached_list(keys)  # a loop runs here: the rest is read at once, on a worker
    assert window.devices.model.rowCount() == 5  # the head, painted first
    qtbot.waitUntil(lambda: window.devices.model.rowCount() == full.count, timeout=5000)
    assert window.session is None and window.showing_cached()

    load_live(run_async, window)
    assert sorted(names(window)) == sorted(listed(server).values())
    assert not window.showing_cached()
    close(run_async, window)


def test_a_listing_whose_rest_is_unreadable_shows_its_head_only(cache: ListCache) -> None:
    keys = demo_keys("x")
    rows = [{"id": f"d{n}", "name": f"Desk {n}"} for n in range(150)]
    assert cache.save(keys, "a1", rows, [], None, login_account=True)
    (path,) = cache.directory.glob("*.json.gz")
    head_line = gzip.decompress(path.read_bytes()).split(b"\n")[0]
    path.write_bytes(gzip.compress(head_line + b"\n[not json"))

    head = cache.load_for(keys, head_only=True)

    assert head is not None and len(head.rows) == 100 and head.count == 150
    assert cache.load_rest(head) is None
    assert cache.load_for(keys) is None  # as a whole it is unusable


def test_a_corrupt_login_pointer_is_ignored(cache: ListCache) -> None:
    keys = remote_keys("https://kazoo.example.com:8443/v2/", "https://kazoo.example.com|a/b")
    assert cache.save(keys, "a" * 32, [{"id": "d1", "name": "One"}], [], None, login_account=True)
    (pointer,) = cache.directory.glob("login-*.json")
    for content in ("{", "[]", '{"account_id": 5}', ""):
        pointer.write_text(content)
        assert cache.load_for(keys) is None
    assert cache.load(keys.server, "a" * 32) is not None  # the listing itself is fine


def _secrets(value: Any, key: str = "") -> Iterator[str]:
    """Every string under a key that names a secret, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _secrets(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _secrets(v, key)
    elif isinstance(value, str) and any(s in key for s in ("password", "api_key", "secret")):
        yield value


def test_nothing_secret_is_in_the_cache(loaded_once: MainWindow, server: Server) -> None:
    cache = loaded_once.cache
    assert cache is not None and loaded_once.session is not None
    text = "\n".join(
        gzip.decompress(path.read_bytes()).decode("utf-8")
        if path.suffix == ".gz"
        else path.read_text(encoding="utf-8")
        for path in cache.directory.iterdir()
    )
    demo = json.loads(resource_path("demo/demo.json").read_text(encoding="utf-8"))
    secrets = {s for s in _secrets(demo) if len(s) >= 6}
    secrets.add(server.ready["password"])
    auth = loaded_once.session.client.auth
    assert auth is not None
    secrets.add(auth.token)
    assert len(secrets) > 10  # the SIP and user passwords, the API keys, the token
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    assert "password" not in text.lower() and "token" not in text.lower()


def test_secret_looking_keys_are_dropped_and_users_reduced(cache: ListCache) -> None:
    keys = demo_keys("x")
    row = {
        "id": "d1",
        "name": "Desk",
        "sip": {"username": "u1", "password": "hunter22"},
        "api_key": "k" * 20,
        "flags": [{"auth_token": "t"}],
    }
    user = {"id": "u1", "first_name": "Ann", "password": "p", "email": "ann@example.com"}
    assert cache.save(keys, "a1", [row], [user], {"d1"}, login_account=True)

    cached = cache.load_for(keys)

    assert cached is not None
    assert cached.rows == [{"id": "d1", "name": "Desk", "sip": {"username": "u1"}, "flags": [{}]}]
    assert cached.users == [{"id": "u1", "first_name": "Ann"}]
    assert cached.registered == {"d1"}


def test_a_listing_over_the_limit_is_not_cached(tmp_path: Path) -> None:
    cache = ListCache(tmp_path, max_rows=3)
    keys = demo_keys("x")
    rows = [{"id": f"d{n}", "name": f"Desk {n}"} for n in range(4)]
    assert cache.save(keys, "a1", rows[:3], [], None, login_account=True)
    assert cache.load_for(keys) is not None

    assert not cache.save(keys, "a1", rows, [], None, login_account=True)

    assert cache.load_for(keys) is None  # the older, smaller listing is gone too


def test_the_demo_is_filed_by_its_store_not_its_port(tmp_path: Path) -> None:
    one, two = EmbeddedDemo(tmp_path / "demo"), EmbeddedDemo(tmp_path / "demo")
    assert one.cache_name == two.cache_name
    assert one.cache_name != EmbeddedDemo(tmp_path / "other").cache_name
    window_keys = [demo_keys(d.cache_name) for d in (one, two)]
    assert window_keys[0] == window_keys[1]
    assert isinstance(window_keys[0], CacheKeys)
