"""Connection profiles in a file; secrets only in a keyring, never in the file."""

from __future__ import annotations

from pathlib import Path

from helpers import MemoryKeyring
from kazoodesk.profiles import (
    Profile,
    ProfileStore,
    keyring_available,
    load_secret,
    store_secret,
)

ALICE = Profile("https://kazoo.example.com:8443/v2", "Demo Co", "alice")
KEY = Profile("https://kazoo.example.com:8443/v2", use_api_key=True)


def test_profiles_are_remembered_most_recent_first(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)

    store.remember(ALICE)
    store.remember(KEY)
    store.remember(ALICE)

    assert store.load() == [ALICE, KEY]
    assert ProfileStore(tmp_path).load() == [ALICE, KEY]  # it is on disk


def test_the_secret_goes_to_the_keyring_not_the_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = ProfileStore(tmp_path)
    store.remember(ALICE)

    assert store_secret(ALICE, "s3cret-Pass")

    assert load_secret(ALICE) == "s3cret-Pass"
    assert load_secret(KEY) is None
    assert "s3cret-Pass" not in store.path.read_text()
    store.forget(ALICE)
    assert load_secret(ALICE) is None and store.load() == []


def test_without_a_keyring_nothing_is_stored(tmp_path: Path, no_keyring: None) -> None:
    assert not keyring_available()
    assert not store_secret(ALICE, "s3cret-Pass")
    assert load_secret(ALICE) is None


def test_a_damaged_profiles_file_is_read_as_empty(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.path.write_text("{not json")

    assert store.load() == []
    store.remember(ALICE)
    assert store.load() == [ALICE]


def test_profile_names_say_who_and_where() -> None:
    assert ALICE.name == "alice@Demo Co on https://kazoo.example.com:8443/v2"
    assert KEY.name.startswith("API key on")
    assert ALICE.secret_key != KEY.secret_key
