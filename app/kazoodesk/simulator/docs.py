"""Document helpers shared by every resource: private fields, public view, PATCH merge."""

from __future__ import annotations

import copy
import re
import time
import uuid
from typing import Any

GREGORIAN_OFFSET = 62167219200  # seconds from 0000-01-01 to the Unix epoch, as Kazoo counts


def gregorian_now() -> int:
    return int(time.time()) + GREGORIAN_OFFSET


def new_id() -> str:
    return uuid.uuid4().hex


def is_private(key: str) -> bool:
    return key.startswith("_") or key.startswith("pvt_")


def public_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """What a client is shown: no `_` or `pvt_` keys, plus `id`."""
    shown = {k: v for k, v in doc.items() if not is_private(k)}
    shown["id"] = doc["_id"]
    return shown


def request_fields(data: dict[str, Any]) -> dict[str, Any]:
    """What a client may set: Crossbar drops `_` and `pvt_` keys from requests."""
    return {k: copy.deepcopy(v) for k, v in data.items() if not is_private(k)}


def normalize_key(key: str) -> str:
    """`kz_json:normalize_key/1`: lower case, `-` as `_` (`Server-ID` is `server_id`)."""
    return key.lower().replace("-", "_")


def normalized(value: Any) -> Any:
    """`kz_json:normalize/1`: every object key of `value`, at any depth, normalised."""
    if isinstance(value, dict):
        return {normalize_key(str(k)): normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def account_db(account_id: str) -> str:
    return f"account%2F{account_id[:2]}%2F{account_id[2:4]}%2F{account_id[4:]}"


def alphanum(name: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def stamp_private(
    doc: dict[str, Any],
    doc_type: str,
    account_id: str,
    request_id: str,
    auth_account_id: str | None,
    auth_user_id: str | None,
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add the private fields Crossbar keeps (`crossbar_doc:update_pvt_parameters/2`)."""
    now = gregorian_now()
    kept = {k: v for k, v in (stored or {}).items() if is_private(k)}
    doc = {**doc, **kept}
    doc.update(
        {
            "pvt_type": doc_type,
            "pvt_vsn": "1",
            "pvt_account_id": account_id,
            "pvt_account_db": account_db(account_id),
            "pvt_modified": now,
            "pvt_request_id": request_id,
            "pvt_is_authenticated": auth_account_id is not None,
            "pvt_auth_account_id": auth_account_id,
            "pvt_auth_user_id": auth_user_id,
        }
    )
    doc.setdefault("pvt_created", now)
    if "name" in doc:
        doc["pvt_alphanum_name"] = alphanum(doc["name"])
    return {k: v for k, v in doc.items() if v is not None or not k.startswith("pvt_auth")}


def merge_left(request: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Kazoo's PATCH merge: nested objects merge, `null` deletes, `{}` and scalars replace."""
    merged = copy.deepcopy(stored)
    for key, value in request.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and value and isinstance(merged.get(key), dict):
            merged[key] = merge_left(value, merged[key])
        else:
            merged[key] = _without_nulls(value)
    return merged


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return copy.deepcopy(value)
