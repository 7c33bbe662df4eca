"""Error answers -> `KazooError`, timestamps, URLs and schema references: plain functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kazoodesk.kazoo import (
    KazooError,
    KazooUnavailable,
    from_gregorian,
    normalize_base_url,
    parse_timestamp,
    to_gregorian,
)
from kazoodesk.kazoo.errors import error_from_answer, field_errors
from kazoodesk.kazoo.schemas import bundled_schema, referenced_schemas


def body(status: int, message: str, data: Any) -> bytes:
    envelope = {"status": "error", "error": str(status), "message": message, "data": data}
    envelope["auth_token"] = "undefined"
    return json.dumps(envelope).encode()


def test_a_validation_error_maps_each_dotted_path_to_its_messages() -> None:
    data = {
        "sip.username": {"unique": {"message": "SIP credentials already in use", "cause": "u1"}},
        "name": {"required": {"message": "Field is required but missing", "value": "name"}},
    }
    error = error_from_answer(400, body(400, "validation error", data))
    assert error.status == 400
    assert error.message == "validation error"
    assert error.errors == {
        "sip.username": ["SIP credentials already in use"],
        "name": ["Field is required but missing"],
    }
    assert error.data == data
    assert str(error) == (
        "SIP credentials already in use (sip.username); Field is required but missing (name)"
    )


def test_many_field_errors_are_summed_up_after_three() -> None:
    data = {
        f"f{i}": {"minLength": {"message": "String must be at least 2 characters"}}
        for i in range(5)
    }
    text = str(error_from_answer(400, body(400, "validation error", data)))
    assert text.count("String must be at least 2 characters") == 3
    assert text.endswith("; and 2 more")


def test_a_field_error_without_a_message_keeps_its_code() -> None:
    assert field_errors({"sip.ip": {"unique": {"cause": "1.2.3.4"}}}) == {"sip.ip": ["unique"]}


def test_a_system_error_has_kazoo_s_message_and_its_code() -> None:
    error = error_from_answer(
        401, body(401, "invalid_credentials", {"message": "invalid credentials"})
    )
    assert (error.status, error.message, error.code) == (
        401,
        "invalid credentials",
        "invalid_credentials",
    )
    assert error.errors == {}
    assert "check the user name, password and account name" in str(error)


def test_a_bad_identifier_names_what_is_missing() -> None:
    data = {"cause": "0123abcd", "message": "bad identifier"}
    error = error_from_answer(404, body(404, "bad_identifier", data), subject="device")
    assert error.message == "bad identifier"
    assert str(error) == "not found: 0123abcd does not exist (or was deleted)"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (412, "the device was changed by someone else (revision mismatch)"),
        (415, "the server refused the request's content type"),
        (304, "not modified since the revision given"),
    ],
)
def test_an_empty_error_body_still_says_what_happened(status: int, expected: str) -> None:
    error = error_from_answer(status, b"", subject="device")
    assert error.status == status
    assert error.message == expected
    assert str(error).startswith(expected)
    assert error.data is None and error.errors == {}


def test_a_conflict_tells_to_reload() -> None:
    error = error_from_answer(
        409, body(409, "datastore_conflict", {"message": "conflicting documents"})
    )
    assert error.message == "conflicting documents"
    assert "reload and try again" in str(error)


def test_a_proxy_s_html_error_page_is_a_kazoo_error_with_its_status() -> None:
    error = error_from_answer(502, b"<html><body>Bad Gateway</body></html>")
    assert error.status == 502
    assert "bad gateway" in str(error)


def test_a_v1_system_error_s_string_data_is_its_message() -> None:
    error = error_from_answer(405, body(405, "invalid_method", "method not allowed"))
    assert error.message == "method not allowed"
    assert error.errors == {}


def test_unavailable_is_a_kazoo_error_with_status_0() -> None:
    error = KazooUnavailable("cannot connect to 127.0.0.1:1 (connection refused)")
    assert isinstance(error, KazooError)
    assert error.status == 0 and str(error) == error.message


@pytest.mark.parametrize(
    "text",
    [
        "2018-05-16T19:08:00",
        "2018-05-16T19:08:00Z",
        "2018-05-16T21:08:00+02:00",
        " 2018-05-16T19:08:00z",
    ],
)
def test_timestamps_parse_with_or_without_a_zone(text: str) -> None:
    assert parse_timestamp(text) == datetime(2018, 5, 16, 19, 8, tzinfo=UTC)


def test_a_non_timestamp_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_gregorian_seconds_round_trip() -> None:
    assert to_gregorian(datetime(1970, 1, 1, tzinfo=UTC)) == 62_167_219_200
    moment = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert from_gregorian(to_gregorian(moment)) == moment
    assert to_gregorian(datetime(2024, 1, 1, 12, 0)) == to_gregorian(moment)  # naive = UTC


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("http://127.0.0.1:8000/v2", "http://127.0.0.1:8000/v2"),
        ("http://127.0.0.1:8000/v2/", "http://127.0.0.1:8000/v2"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v2"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v2"),
        (" https://kazoo.example.com/api// ", "https://kazoo.example.com/api/v2"),
    ],
)
def test_base_urls_are_accepted_with_or_without_v2(typed: str, url: str) -> None:
    assert normalize_base_url(typed) == url


@pytest.mark.parametrize(
    "typed", ["127.0.0.1:8000", "ftp://host/v2", "http://host/v1", "http:///v2"]
)
def test_a_url_that_cannot_be_a_kazoo_api_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        normalize_base_url(typed)


def test_references_name_other_schemas_only() -> None:
    schema = {
        "properties": {
            "media": {"$ref": "endpoint.media"},
            "keys": {"items": [{"$ref": "devices.combo_key#/definitions/x"}]},
            "local": {"$ref": "#/definitions/local"},
            "old": {"$ref": "caller_id.json"},
        }
    }
    assert referenced_schemas(schema) == {"endpoint.media", "devices.combo_key", "caller_id"}


def test_a_bundled_schema_looks_as_a_server_serves_it() -> None:
    schema = bundled_schema("devices")
    assert schema is not None
    assert schema["id"] == "devices" and "_id" not in schema and "$schema" in schema
    assert bundled_schema("no.such.schema") is None
    assert bundled_schema("../pyproject") is None
