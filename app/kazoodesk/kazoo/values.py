"""The plain values the client hands out: a document with its revision, a login, an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Document:
    """A document's public fields (`data`, with its `id`) and its revision: the envelope
    `revision`, i.e. the CouchDB `_rev`, to send back as `If-Match` when saving."""

    data: dict[str, Any]
    revision: str | None

    @property
    def id(self) -> str | None:
        value = self.data.get("id")
        return value if isinstance(value, str) else None


@dataclass
class AuthInfo:
    """Who the client is logged in as. `owner_id` is None for an API-key login; `details`
    is the whole `data` of the auth answer (language, is_reseller, apps, ...)."""

    account_id: str
    account_name: str | None
    owner_id: str | None
    token: str = field(repr=False)
    details: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Answer:
    """A successful answer: HTTP status, the envelope's `data` and `revision` (the `etag`
    header when the envelope has none), and the whole envelope."""

    status: int
    data: Any
    revision: str | None
    envelope: dict[str, Any]
