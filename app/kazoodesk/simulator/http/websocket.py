"""Kazoo 4.3 blackhole: the event websocket, on a port of its own (kazoo-blackhole.md).

Plain RFC 6455, JSON in text frames, any path (§1). Each text frame runs blackhole's steps in
its order, and the first that fails sends the one error reply (§5, `sock_cb:recv/2`): rate
(a token bucket per connection), authenticate (sticky: the first fully successful request
fixes the connection's account), validate, authorize (subscribe only), command. Loaded
modules: `object` (§2.2, §3.1) and, not in Kazoo, `registration` (events.py), unless turned
off to behave as a stock 4.3 (`set_registration_events`); the others answer "no available
subscriptions to requested binding", as when a module is not loaded.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from kazoodesk.simulator.docs import account_db
from kazoodesk.simulator.events import REGISTRATION_KINDS, Event, encode_key
from kazoodesk.simulator.http.envelope import AUTO, Call, Reply

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

BLACKHOLE_PORT = 5555
DOC_ACTIONS = ("doc_created", "doc_edited", "doc_deleted")  # kapi_conf.hrl
DOC_TYPES = (  # doc_types.hrl
    "account",
    "callflow",
    "device",
    "faxbox",
    "media",
    "user",
    "vmbox",
    "fax",
    "mailbox_message",
    "call_recording",
)
MODB_TYPES = ("fax", "mailbox_message")  # read from the month's database
REGISTRATION_KEYS = ("success", *REGISTRATION_KINDS)
# `system_config/blackhole.bindings`, what `GET /v2/websockets` lists: each module's bindings
AVAILABLE = {
    "object": [f"object.{a}.{t}" for a in DOC_ACTIONS for t in DOC_TYPES],
    "registration": [f"registration.{k}" for k in REGISTRATION_KEYS],
}
# module globals, read on use, so that tests can shorten them
IDLE_TIMEOUT_S = 3600.0  # closed with 1000 after this long without a frame from the client
SEND_TIMEOUT_S = 5.0  # a socket not writable for this long is closed
BUCKET_SIZE = 100
BUCKET_FILL_PER_S = 10.0
# the Simulator attribute saying whether the `registration` module is loaded (default: it is)
_REGISTRATION_FLAG = "registration_events"


class Refused(Exception):
    """A step failed: one error reply with this text."""


class Crash(Exception):
    """Input that crashes blackhole's handler; cowboy then closes with 1011."""


def set_registration_events(sim: Simulator, loaded: bool) -> None:
    """Load the (not Kazoo) `registration` module or not. Kept on `sim`, which both the REST
    listing and the sessions see."""
    setattr(sim, _REGISTRATION_FLAG, loaded)


def registration_events(sim: Simulator) -> bool:
    return getattr(sim, _REGISTRATION_FLAG, True) is not False


def modules(sim: Simulator) -> dict[str, list[str]]:
    """The loaded modules and the bindings each offers."""
    if registration_events(sim):
        return AVAILABLE
    return {family: bindings for family, bindings in AVAILABLE.items() if family != "registration"}


async def available(call: Call, sim: Simulator) -> Reply:
    """`GET /v2/websockets`: the bindings on offer (no token needed, `cb_websockets`)."""
    return Reply(modules(sim), revision=AUTO)


def build_blackhole_app(sim: Simulator) -> web.Application:
    app = web.Application()
    sockets: set[web.WebSocketResponse] = set()

    async def handler(request: web.Request) -> web.StreamResponse:
        if "Sec-WebSocket-Protocol" in request.headers:
            raise web.HTTPBadRequest()  # `sock_handler:init/2` refuses any subprotocol
        ws = web.WebSocketResponse(compress=False)  # autopong, never a ping of its own
        await ws.prepare(request)
        sockets.add(ws)
        try:
            await Session(sim, ws, request).run()
        finally:
            sockets.discard(ws)
        return ws

    async def close_all(_app: web.Application) -> None:
        closing = [asyncio.wait_for(ws.close(code=1001), 1.0) for ws in list(sockets)]
        await asyncio.gather(*closing, return_exceptions=True)

    app.router.add_route("GET", "/{path:.*}", handler)
    app.on_shutdown.append(close_all)
    return app


class Session:
    """One connection: its account once authenticated, its bindings, its rate bucket."""

    def __init__(self, sim: Simulator, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.sim = sim
        self.ws = ws
        self.request = request
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.session_id = f"{peer[0]}:{peer[1]}" if peer else "unknown"
        self.auth_account_id: str | None = None
        # (client binding, subscription key) pairs in order: what `subscribed` lists
        self.bindings: list[tuple[str, str]] = []
        self.resp_data: dict[str, Any] = {}
        self.tokens = float(BUCKET_SIZE)
        self.families = set(modules(sim))
        self.filled_at = time.monotonic()
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        subscription = self.sim.events.subscribe(self._select)
        writer = asyncio.create_task(self._write_events(subscription.queue))
        try:
            await self._read()
        finally:
            subscription.close()
            writer.cancel()
            # done before the handler is: a loop closed right after a stop must not leave it
            # pending (its coroutine would then be closed by the GC, on another thread)
            await asyncio.gather(writer, return_exceptions=True)

    async def _read(self) -> None:
        while True:
            try:
                message = await self.ws.receive(timeout=IDLE_TIMEOUT_S)
            except TimeoutError:
                await self.ws.close(code=1000)
                return
            if message.type is WSMsgType.TEXT:
                try:
                    reply = self.handle(message.data)
                except Crash:
                    await self.ws.close(code=1011)
                    return
                if not await self._send(reply):
                    return
            elif message.type is not WSMsgType.BINARY:  # binary frames are ignored
                return  # closed or broken

    # ---- replies -------------------------------------------------------------------------------

    def handle(self, text: str) -> dict[str, Any]:
        """The reply to one text frame."""
        payload = _decode(text)
        action = payload.pop("action", "noop")
        if not isinstance(action, str):
            raise Crash()
        request_id = _request_id(payload.get("request_id"))
        try:
            self._rate()
            auth_account_id = self.auth_account_id or self._authenticate(payload.get("auth_token"))
            data = self.resp_data  # every other action (ping too) gets the last data back
            if action in {"subscribe", "unsubscribe"}:
                account_id, binding = _validate(payload.get("data"), self.families)
                if action == "subscribe":
                    self._authorize(auth_account_id, account_id)
                    data = self._subscribe(account_id, binding)
                else:
                    data = self._unsubscribe(account_id, binding)
        except Refused as refused:
            return _reply(request_id, "error", {"errors": [str(refused)]})
        self.auth_account_id, self.resp_data = auth_account_id, data
        return _reply(request_id, "success", data)

    def _rate(self) -> None:
        now = time.monotonic()
        elapsed, self.filled_at = now - self.filled_at, now
        self.tokens = min(float(BUCKET_SIZE), self.tokens + elapsed * BUCKET_FILL_PER_S)
        if self.tokens < 1:
            raise Refused(f"rate limiting threshold hit for {self.session_id}!")
        self.tokens -= 1

    def _authenticate(self, token: Any) -> str:
        if token is None or token == "":
            raise Refused("authentication token required")
        if not isinstance(token, str):
            raise Refused("invalid authentication token format")
        claims = self.sim.tokens.verify(token) or {}
        if not claims.get("account_id"):
            raise Refused(f"failed to authenticate token {token}")
        return str(claims["account_id"])

    def _authorize(self, auth_account_id: str, account_id: str) -> None:
        """`bh_authz_subscribe`: the token's account or a descendant; `*` for superduper."""
        accounts = self.sim.accounts
        if account_id == "*":
            if not accounts.is_superduper(auth_account_id):
                raise Refused("unauthorized wildcard account id")
        elif not accounts.may_access(auth_account_id, account_id):
            raise Refused("unauthorized account id")

    def _subscribe(self, account_id: str, binding: str) -> dict[str, Any]:
        pairs = self._pairs(account_id, binding)
        self.bindings += [pair for pair in pairs if pair not in self.bindings]
        return {"subscribed": [client for client, _key in self.bindings]}

    def _unsubscribe(self, account_id: str, binding: str) -> dict[str, Any]:
        pairs = self._pairs(account_id, binding)
        self.bindings = [pair for pair in self.bindings if pair not in pairs]
        return {"unsubscribed": [binding], "subscribed": [c for c, _k in self.bindings]}

    def _pairs(self, account_id: str, binding: str) -> list[tuple[str, str]]:
        """The module's `bindings/2`: the subscription keys a client binding stands for."""
        family, *keys = binding.split(".")
        if family not in self.families:
            raise Refused("no available subscriptions to requested binding")
        if family == "object":
            action, doc_type = keys
            db = "*" if account_id == "*" else account_db(account_id)
            modb = "*" if account_id == "*" else f"{db}-{time.strftime('%Y%m')}"
            if doc_type == "*":
                found = [f"{action}.{db}.*.*", f"{action}.{modb}.*.*"]
            else:
                found = [f"{action}.{modb if doc_type in MODB_TYPES else db}.{doc_type}.*"]
        elif family == "registration" and keys == ["success"]:
            account = self.sim.accounts.get(account_id) or {}
            realm = "*" if account_id == "*" else str(account.get("realm") or "")
            found = [f"registration.success.{encode_key(realm)}.*"]
        else:  # registration
            found = [f"registration.{keys[0]}.{account_id}.*"]
        return [(binding, key) for key in found]

    # ---- events --------------------------------------------------------------------------------

    def _select(self, event: Event) -> tuple[Event, list[tuple[str, str]]] | None:
        """What to queue for this connection: the event and the bindings it matches."""
        matched = [pair for pair in self.bindings if _matches(pair[1], event.routing_key)]
        return (event, matched) if matched else None

    async def _write_events(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            event, matched = await queue.get()
            for client_binding, key in matched:
                message = {
                    "action": "event",
                    "subscribed_key": client_binding,
                    "subscription_key": key,
                    "name": event.name,
                    "routing_key": event.routing_key,
                    "data": event.data,
                }
                if not await self._send(message):
                    return

    async def _send(self, message: dict[str, Any]) -> bool:
        """Send one frame; a socket that stays unwritable is closed (False)."""
        text = json.dumps(message, separators=(",", ":"))
        async with self._send_lock:
            try:
                await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT_S)
                return True
            except (TimeoutError, ConnectionError):
                if self.request.transport is not None:
                    self.request.transport.abort()
                return False


def _decode(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise Crash() from exc
    if not isinstance(payload, dict):
        raise Crash()
    return payload


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _request_id(value: Any) -> str:
    """Echoed as a string (`kz_json:get_ne_binary_value/3`); a new 32-hex id when empty."""
    if value in (None, "", 0, False) or isinstance(value, dict | list):
        return uuid.uuid4().hex
    if isinstance(value, bool):
        return "true"
    return value if isinstance(value, str) else json.dumps(value)


def _validate(data: Any, families: set[str]) -> tuple[str, str]:
    """`bh_events:validate/2` and the module's `validate/2` (a module not loaded validates
    nothing)."""
    if not isinstance(data, dict) or not data:
        raise Refused("missing required keys in data object")
    missing = [key for key in ("account_id", "binding") if key not in data]
    if missing:
        raise Refused(f"missing required keys : {', '.join(missing)}")
    account_id, binding = data["account_id"], data["binding"]
    if not isinstance(account_id, str) or not isinstance(binding, str):
        raise Crash()
    family, *keys = binding.split(".")
    if family not in families:
        return account_id, binding
    if family == "object":
        _validate_object(keys)
    elif family == "registration" and (len(keys) != 1 or keys[0] not in {"*", *REGISTRATION_KEYS}):
        raise Refused(f"invalid format for registration subscription : {', '.join(keys)}")
    return account_id, binding


def _validate_object(keys: list[str]) -> None:
    """`bh_object:validate/2`: `object.<action>.<type>`, either of them `*`."""
    if len(keys) != 2:
        raise Refused(f"invalid format for object subscription : {', '.join(keys)}")
    action, doc_type = keys
    if action not in {"*", *DOC_ACTIONS} or doc_type not in {"*", *DOC_TYPES}:
        raise Refused(f"event {action}.{doc_type} not supported")


def _matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching with `*` (one word), the only wildcard subscription keys use."""
    want, got = pattern.split("."), routing_key.split(".")
    return len(want) == len(got) and all(w in ("*", g) for w, g in zip(want, got, strict=True))


def _reply(request_id: str, status: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"action": "reply", "request_id": request_id, "status": status, "data": data}
