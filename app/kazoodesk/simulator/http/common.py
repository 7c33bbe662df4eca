"""Steps every document resource shares: load or 404, save with conflict mapping, replies."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from kazoodesk.schema.validate import type_error
from kazoodesk.simulator.devices import decode_start_key, encode_start_key, page_size_of
from kazoodesk.simulator.docs import merge_left, public_fields, stamp_private
from kazoodesk.simulator.events import Event, doc_event
from kazoodesk.simulator.http.envelope import (
    AUTO,
    Call,
    Reply,
    bad_identifier,
    datastore_conflict,
    validation_error,
)
from kazoodesk.simulator.store import Conflict, Transaction

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

# the document events of the request being handled, published once its reply is sent
# (http/app.py); outside a request they go out at once
PENDING_EVENTS: ContextVar[list[Event] | None] = ContextVar("pending_events", default=None)


class Rejected(Exception):
    """A write function found the request invalid inside the transaction (a lost race)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("rejected")
        self.errors = errors


def load(call: Call, sim: Simulator, doc_id: str, doc_type: str) -> dict[str, Any]:
    """The live document of that type in the URL's account, or 404 `bad_identifier`."""
    assert call.account_id is not None
    doc = sim.store.reader.get(call.account_id, doc_id)
    if doc is None or doc.get("pvt_type") != doc_type:
        raise bad_identifier(doc_id)
    return doc


def data_object(call: Call) -> dict[str, Any]:
    """The request's `data`, which must be an object for document writes."""
    data = call.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise validation_error({"data": {"type": type_error("object", data)}})
    return data


def updated_data(request: dict[str, Any], stored: dict[str, Any], merged: bool) -> dict[str, Any]:
    """The new public fields: the request as it is (POST) or merged onto the stored ones
    (PATCH); the id always comes from the URL."""
    data = merge_left(request, public_fields(stored)) if merged else dict(request)
    data.pop("id", None)
    return data


def stamp(
    call: Call, doc: dict[str, Any], doc_type: str, stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    assert call.account_id is not None
    return stamp_private(
        doc,
        doc_type,
        call.account_id,
        call.request_id,
        call.auth_account_id,
        call.auth_owner_id,
        stored,
    )


async def save(
    call: Call,
    sim: Simulator,
    account_id: str,
    doc: dict[str, Any],
    expected_rev: str | None,
    recheck: Any = None,
) -> dict[str, Any]:
    """Write the document durably once the request's `If-Match` holds (checked, as in
    cowboy, after validation); `recheck(tx)` may return errors found under the write lock.
    A create (`expected_rev=None`) of an id already taken is CouchDB's 409. Every save
    announces its `doc_created|doc_edited|doc_deleted` event (`kzs_publish:publish_doc/3`)."""
    call.if_match(expected_rev)

    def write(tx: Transaction) -> dict[str, Any]:
        if recheck is not None:
            errors = recheck(tx)
            if errors:
                raise Rejected(errors)
        return tx.put(account_id, doc, expected_rev)

    try:
        saved: dict[str, Any] = await sim.store.write(write)
    except Conflict as exc:
        raise datastore_conflict() from exc
    except Rejected as exc:
        raise validation_error(exc.errors) from exc
    deleted = bool(doc.get("pvt_deleted"))
    action = "deleted" if deleted else "edited" if expected_rev else "created"
    _announce(sim, doc_event(action, account_id, saved, soft_deleted=deleted))
    return saved


def _announce(sim: Simulator, event: Event) -> None:
    pending = PENDING_EVENTS.get()
    if pending is None:
        sim.events.publish(event)
    else:
        pending.append(event)


def doc_reply(doc: dict[str, Any], **headers: str) -> Reply:
    return Reply(public_fields(doc), revision=doc["_rev"], headers=headers)


def paginates(call: Call) -> bool:
    """`cb_context:should_paginate/1`: `/v2` unless `paginate=false`; `/v1` never."""
    return call.version == "v2" and call.flag("paginate", True)


def page_size(call: Call) -> int | None:
    """The rows a page holds, None for all of them."""
    return page_size_of(call.req_value("page_size")) if paginates(call) else None


def start_key(call: Call) -> str | None:
    """The decoded `start_key` of a paginated request, if it has one."""
    value = call.req_value("start_key")
    return decode_start_key(str(value)) if value and paginates(call) else None


def list_reply(
    call: Call, rows: list[dict[str, Any]], start: str | None = None, following: str | None = None
) -> Reply:
    """A listing with the page keys of `crossbar_doc` (the start key used, the next page's)."""
    extra: dict[str, Any] = {}
    if paginates(call):
        extra["page_size"] = len(rows)
        if start:
            extra["start_key"] = encode_start_key(start)
        if following:
            extra["next_start_key"] = encode_start_key(following)
    return Reply(rows, revision=AUTO, extra=extra)


def deleted_reply(stored: dict[str, Any]) -> Reply:
    """Crossbar answers a delete with the public fields and `_read_only.deleted`."""
    data = public_fields(stored)
    data["_read_only"] = {"deleted": True}
    return Reply(data, revision=stored["_rev"])


async def soft_delete(call: Call, sim: Simulator, stored: dict[str, Any]) -> Reply:
    assert call.account_id is not None
    call.if_match(stored["_rev"])
    if not call.flag("should_soft_delete", True):

        def purge(tx: Transaction) -> None:
            tx.purge(call.account_id or "", stored["_id"])

        await sim.store.write(purge)
        _announce(sim, doc_event("deleted", call.account_id, stored, soft_deleted=False))
        return deleted_reply(stored)
    doc = stamp(call, {**stored, "pvt_deleted": True}, stored["pvt_type"], stored)
    await save(call, sim, call.account_id, doc, stored["_rev"])
    return deleted_reply(stored)
