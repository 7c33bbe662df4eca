"""Unsolicited NOTIFY to a registered phone (check-sync and friends, sip-registrar.md §3).

What Kazoo's ecallmgr sends through FreeSWITCH: `NOTIFY <Contact>` with From = To =
`sip:user@realm`, `Event`, `X-KAZOO-AOR`, optional body; plus `Subscription-State:
terminated` for strict RFC 6665 phones. It goes to the address the REGISTER came from (NAT),
over the binding's transport. A 401/407 from the phone (Linksys/Cisco SPA do this) is
answered once with the device's SIP credentials.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass

from kazoodesk.simulator.registrar.bindings import Binding
from kazoodesk.simulator.registrar.digest import build_authorization, parse_challenge
from kazoodesk.simulator.registrar.headers import SipParseError, Via
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_request,
    new_branch,
    new_call_id,
    new_tag,
)
from kazoodesk.simulator.registrar.transactions import ClientTransactions, TransactionError
from kazoodesk.simulator.registrar.transport import Link

Addr = tuple[str, int]
USER_AGENT = "KazooDesk registrar"


class NotifyResult(enum.Enum):
    ANSWERED = "answered"  # a final response came: see `code`
    TIMED_OUT = "timed_out"  # UDP: no final response before Timer F
    SENT = "sent"  # TCP: written to the phone's connection, no final response before Timer F
    FAILED = "failed"  # could not be sent (no connection, too many pending, bad target)


@dataclass(frozen=True, slots=True)
class NotifyOutcome:
    realm: str
    username: str
    contact: str
    target: Addr
    transport: str
    result: NotifyResult
    code: int | None = None
    reason: str = ""
    authenticated: bool = False  # a 401/407 was answered with the device's credentials

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


@dataclass(frozen=True, slots=True)
class NotifySpec:
    """One NOTIFY to one binding. `local` is the registrar's own address (Via, Contact)."""

    realm: str
    username: str
    contact: str  # Request-URI: the registered Contact
    target: Addr  # where the REGISTER came from
    transport: str
    local: Addr
    event: str
    body: bytes = b""
    content_type: str | None = None


def spec_for(
    b: Binding, local: Addr, event: str, body: bytes = b"", content_type: str | None = None
) -> NotifySpec:
    """The NOTIFY for binding `b`: to its Contact, sent where its REGISTER came from."""
    return NotifySpec(b.realm, b.username, b.contact, (b.source_ip, b.source_port), b.transport,
                      local, event, body, content_type)  # fmt: skip


def build_notify(
    spec: NotifySpec,
    *,
    call_id: str,
    cseq: int,
    branch: str,
    from_tag: str,
    authorization: tuple[str, str] | None = None,
) -> bytes:
    host, port = spec.local
    aor = f"sip:{spec.username}@{spec.realm}"
    headers = [
        ("Contact", f"<sip:{host}:{port}>"),
        ("Event", spec.event),
        ("Subscription-State", "terminated"),
        ("X-KAZOO-AOR", aor),
        ("User-Agent", USER_AGENT),
    ]
    if authorization is not None:
        headers.append(authorization)
    if spec.content_type:
        headers.append(("Content-Type", spec.content_type))
    return build_request(
        "NOTIFY",
        spec.contact,
        via=Via(spec.transport, host, port, {"branch": branch, "rport": None}),
        from_addr=f"<{aor}>;tag={from_tag}",
        to_addr=f"<{aor}>",
        call_id=call_id,
        cseq=cseq,
        headers=headers,
        body=spec.body,
    )


def _answer_to(
    response: SipMessage, password: tuple[str, str], spec: NotifySpec
) -> tuple[str, str] | None:
    """The Authorization (or Proxy-Authorization) header answering a 401 (407)."""
    asked = "www-authenticate" if response.status == 401 else "proxy-authenticate"
    value = response.get(asked)
    if value is None:
        return None
    try:
        challenge = parse_challenge(value)
    except SipParseError:
        return None
    username, secret = password
    answer = build_authorization(
        challenge, username=username, password=secret, method="NOTIFY", uri=spec.contact
    )
    return ("Authorization" if response.status == 401 else "Proxy-Authorization"), answer


async def send_notify(
    clients: ClientTransactions,
    spec: NotifySpec,
    send: Callable[[bytes], bool] | None,
    reliable: bool,
    credentials: tuple[str, str] | None,
) -> NotifyOutcome:
    """Run the NOTIFY transaction(s) for one binding. `send` carries bytes to the phone
    (None when there is no way to reach it); `credentials` = (username, password)."""
    if send is None:
        return _outcome(spec, NotifyResult.FAILED, reason="no connection to the phone")
    call_id, from_tag = new_call_id(spec.local[0]), new_tag()
    authorization: tuple[str, str] | None = None
    for cseq in (1, 2):
        branch = new_branch()
        data = build_notify(
            spec, call_id=call_id, cseq=cseq, branch=branch, from_tag=from_tag,
            authorization=authorization,
        )  # fmt: skip
        try:
            response = await clients.start(data, branch, "NOTIFY", send, reliable)
        except TransactionError as exc:
            return _outcome(spec, NotifyResult.FAILED, reason=str(exc))
        except asyncio.CancelledError:
            raise
        authenticated = authorization is not None
        if response is None:
            result = NotifyResult.SENT if reliable else NotifyResult.TIMED_OUT
            return _outcome(spec, result, authenticated=authenticated)
        if response.status in (401, 407) and credentials and authorization is None:
            authorization = _answer_to(response, credentials, spec)
            if authorization is not None:
                continue
        return _outcome(
            spec, NotifyResult.ANSWERED, response.status, response.reason[:128], authenticated
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def notify_over(
    clients: ClientTransactions,
    spec: NotifySpec,
    link: Link | None,
    credentials: tuple[str, str] | None,
) -> NotifyOutcome:
    """`send_notify` through `link` (the UDP socket or the phone's TCP connection; None when
    the phone's connection is gone)."""
    if link is None:
        return await send_notify(clients, spec, None, spec.transport == "UDP", credentials)
    target = spec.target
    return await send_notify(
        clients, spec, lambda data: link.send(data, target), link.reliable, credentials
    )


def _outcome(
    spec: NotifySpec,
    result: NotifyResult,
    code: int | None = None,
    reason: str = "",
    authenticated: bool = False,
) -> NotifyOutcome:
    return NotifyOutcome(
        spec.realm, spec.username, spec.contact, spec.target, spec.transport, result, code,
        reason, authenticated,
    )  # fmt: skip
