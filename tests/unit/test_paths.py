"""Dotted paths into documents, as Kazoo names fields."""

from __future__ import annotations

from kazoodesk.schema.paths import changed_leaves, delete_path, get_path, has_path, set_path


def test_get_and_has() -> None:
    doc = {"sip": {"username": "a", "custom_sip_headers": {"X.Tag": "1"}}, "flags": []}

    assert get_path(doc, "sip.username") == "a"
    assert get_path(doc, "sip.custom_sip_headers.X%2ETag") == "1"
    assert get_path(doc, "sip.missing", "default") == "default"
    assert has_path(doc, "flags") and not has_path(doc, "flags.x")


def test_set_creates_objects_and_delete_removes() -> None:
    doc: dict = {"sip": "not an object"}

    set_path(doc, "sip.username", "b")
    set_path(doc, "media.audio.codecs", ["PCMU"])
    delete_path(doc, "media.audio.codecs")
    delete_path(doc, "nowhere.at.all")

    assert doc == {"sip": {"username": "b"}, "media": {"audio": {}}}


def test_changed_leaves() -> None:
    before = {"name": "a", "sip": {"username": "u", "password": "p"}, "codecs": [1, 2]}
    after = {"name": "a", "sip": {"username": "v"}, "codecs": [2, 1], "enabled": False}

    assert changed_leaves(before, after) == ["codecs", "enabled", "sip.password", "sip.username"]
    assert changed_leaves(before, before) == []


def test_changed_leaves_tells_true_from_one() -> None:
    assert changed_leaves({"enabled": 1}, {"enabled": True}) == ["enabled"]
    assert changed_leaves({"a": {"b.c": 1}}, {"a": {"b.c": 2}}) == ["a.b%2Ec"]
