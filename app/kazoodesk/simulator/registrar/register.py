"""A REGISTER as the location table sees it, and the rules on how long it may last
(RFC 3261 §10.2-10.3, Kazoo's registrar-role bounds).

`check_bounds` is separate because Kazoo answers `400 Missing Expires` and `423` before it
even challenges; `BindingTable.apply` runs the same rules again, atomically with the change.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.headers import (
    NameAddr,
    SipParseError,
    parse_expires,
    parse_name_addr,
    parse_uri,
    unescape_user,
)
from kazoodesk.simulator.registrar.message import SipMessage

if TYPE_CHECKING:
    from kazoodesk.simulator.registrar.bindings import Binding, BindingChange

MALFORMED_EXPIRES = 3600  # RFC 3261 §10.2.1.1 / §20.19
MAX_USER_AGENT = 256
MAX_CONTACTS = 32  # in one REGISTER (Kazoo keeps one; Kamailio's max_contacts is off)


@dataclass(frozen=True, slots=True)
class RegistrarPolicy:
    """Kazoo's registrar-role defaults: 300/3600/600, one contact per AOR, `400 Missing
    Expires` when neither the contact nor the request says how long (then `default_expires`
    is only used with `reject_missing_expires=False`). `retention_s` keeps an expired
    binding listed a while longer (ecallmgr's `expires_deviation_time` is 180 s)."""

    min_expires: int = 300
    max_expires: int = 3600
    default_expires: int = 600
    single_binding: bool = True
    max_contacts: int = 10
    reject_missing_expires: bool = True
    max_contact_length: int = 2048
    retention_s: float = 0.0


@dataclass(slots=True)
class RegisterRequest:
    """What a REGISTER asks of the table; `realm`/`username` are canonical (lower-case)."""

    realm: str
    username: str
    contacts: list[NameAddr]
    expires: int | None  # the Expires header (malformed counts as 3600), None when absent
    call_id: str
    cseq: int
    source_ip: str
    source_port: int
    transport: str = "UDP"
    user_agent: str = ""
    device: DeviceCredentials | None = None  # who it authenticated as

    @property
    def wildcard(self) -> bool:
        return bool(self.contacts) and self.contacts[0].is_wildcard


# A phone's REGISTER pair (challenged, then signed) and its refreshes repeat the same To and
# Contact: what their parse gave is kept for the last `_RECENT` of them (oldest out first, so
# a full cache stays full; an OrderedDict drops its oldest in O(1), where a dict's first key
# is found past the slots its earlier deletions left), values of ordinary length only
# (hostile ones can be 8 KB).
_RECENT = 1024
_CACHED_LENGTH = 200
_aors: OrderedDict[str, tuple[str, str]] = OrderedDict()  # To value -> (realm, username)
_good_uris: OrderedDict[str, None] = OrderedDict()  # Contact URIs that parse


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    if len(key) <= _CACHED_LENGTH:
        if len(cache) >= _RECENT:
            cache.popitem(last=False)
        cache[key] = value


def _aor(to_value: str) -> tuple[str, str]:
    found = _aors.get(to_value)
    if found is None:
        to_uri = parse_uri(parse_name_addr(to_value).uri)
        if not to_uri.user:
            raise SipParseError("Address of record has no user")
        found = sys.intern(to_uri.host), unescape_user(to_uri.user).lower()
        _remember(_aors, to_value, found)
    return found


def _check_uri(uri: str) -> None:
    if uri not in _good_uris:
        parse_uri(uri)  # SipParseError when it does not parse
        _remember(_good_uris, uri, None)


def register_request(msg: SipMessage, source: tuple[str, int], transport: str) -> RegisterRequest:
    """The REGISTER `msg` as a table request; the AOR comes from To (RFC 3261 §10.3 step 5:
    parameters dropped, escapes resolved). Raises `SipParseError` (400, with `msg`)."""
    try:
        realm, username = _aor(msg.headers["to"][0])
        values = msg.values("contact")
        if len(values) > MAX_CONTACTS:
            raise SipParseError("too many contacts")
        contacts = [parse_name_addr(v) for v in values]
        for contact in contacts:
            if contact.is_wildcard:
                if len(contacts) > 1:
                    raise SipParseError("Contact * must be alone")
            else:
                _check_uri(contact.uri)
    except SipParseError as exc:
        raise SipParseError(exc.reason, 400, msg) from None
    raw_expires = msg.get("expires")
    expires = None if raw_expires is None else parse_expires(raw_expires)
    if raw_expires is not None and expires is None:
        expires = MALFORMED_EXPIRES
    agent = msg.get("user-agent") or ""
    return RegisterRequest(
        realm=realm,
        username=username,
        contacts=contacts,
        expires=expires,
        call_id=msg.call_id,
        cseq=msg.cseq,
        source_ip=sys.intern(source[0]),
        source_port=source[1],
        transport=sys.intern(transport.upper()),
        user_agent=sys.intern(agent[:MAX_USER_AGENT]),
    )


@dataclass(slots=True)
class RegisterResult:
    """The decision: `status`/`reason` for the response, the AOR's bindings afterwards (the
    200's Contact list), `min_expires` for a 423, and what changed (for events)."""

    status: int
    reason: str
    bindings: tuple[Binding, ...] = ()
    min_expires: int | None = None
    changes: tuple[BindingChange, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == 200


def _fail(status: int, reason: str) -> RegisterResult:
    return RegisterResult(status, reason)


def grant_expiries(req: RegisterRequest, policy: RegistrarPolicy) -> list[int] | RegisterResult:
    """The expiry granted to each contact (a wildcard gets 0), or the failure: `*` misused,
    a contact too long, `400 Missing Expires` (Kazoo), `423` with `min_expires`."""
    if req.wildcard:
        if len(req.contacts) > 1:
            return _fail(400, "Contact * must be alone")
        if req.expires != 0:
            return _fail(400, "Contact * needs Expires: 0")
        return [0]
    out: list[int] = []
    too_brief = False
    for contact in req.contacts:
        if contact.is_wildcard:
            return _fail(400, "Contact * must be alone")
        if len(contact.uri) > policy.max_contact_length:
            return _fail(400, "Contact too long")
        params = contact.params
        if "expires" in params:
            value = parse_expires(params["expires"] or "")
            expires = MALFORMED_EXPIRES if value is None else value
        elif req.expires is not None:
            expires = req.expires
        elif policy.reject_missing_expires:
            return _fail(400, "Missing Expires")
        else:
            expires = policy.default_expires
        if 0 < expires < 3600 and expires < policy.min_expires:
            too_brief = True
        out.append(min(expires, policy.max_expires))
    if too_brief:
        return RegisterResult(423, "Interval Too Brief", min_expires=policy.min_expires)
    return out


def check_bounds(req: RegisterRequest, policy: RegistrarPolicy) -> RegisterResult | None:
    """Expiry checks alone (400 Missing Expires, 423, bad `*`), which Kazoo runs before the
    digest challenge; None when the request passes them."""
    result = grant_expiries(req, policy)
    return result if isinstance(result, RegisterResult) else None
