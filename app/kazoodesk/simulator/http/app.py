"""The simulator's aiohttp application: every Crossbar path goes through one pipeline."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aiohttp import web

from kazoodesk.simulator.http import (
    accounts,
    auth,
    devices,
    registrations,
    schemas,
    users,
    websocket,
)
from kazoodesk.simulator.http.common import PENDING_EVENTS
from kazoodesk.simulator.http.pipeline import MAX_UPLOAD_BYTES, Pipeline, Route, Router

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from kazoodesk.simulator.events import Event
    from kazoodesk.simulator.service import Simulator

ROUTES = [
    # top level: /v2/...
    Route(("user_auth",), {"PUT": auth.user_auth}, under_account=False, public=("PUT",)),
    Route(("api_auth",), {"PUT": auth.api_auth}, under_account=False, public=("PUT",)),
    Route(("schemas",), {"GET": schemas.list_schemas}, under_account=False, public=("GET",)),
    Route(("schemas", "{name}"), {"GET": schemas.get_schema}, under_account=False, public=("GET",)),
    Route(("accounts",), {"PUT": accounts.put_top_account}, under_account=False),
    # what the event websocket offers; public, as `cb_websockets:authenticate_req/3` has it
    Route(("websockets",), {"GET": websocket.available}, under_account=False, public=("GET",)),
    Route(
        ("registrations", "count"),
        {"GET": registrations.count_all_registrations},
        under_account=False,
    ),
    # /v2/accounts/{account_id}/...
    Route(
        (),
        {
            "GET": accounts.get_account,
            "PUT": accounts.put_account,
            "POST": accounts.update_account,
            "PATCH": accounts.update_account,
            "DELETE": accounts.delete_account,
        },
    ),
    Route(("children",), {"GET": accounts.children}),
    Route(("descendants",), {"GET": accounts.descendants}),
    Route(("users",), {"GET": users.list_users, "PUT": users.create_user}),
    Route(
        ("users", "{user_id}"),
        {
            "GET": users.get_user,
            "POST": users.update_user,
            "PATCH": users.update_user,
            "DELETE": users.delete_user,
        },
    ),
    Route(
        ("users", "{user_id}", "devices"),
        {"GET": devices.user_devices, "PUT": devices.create_device},
    ),
    Route(("devices",), {"GET": devices.list_devices, "PUT": devices.create_device}),
    Route(("devices", "status"), {"GET": devices.devices_status}),
    Route(
        ("devices", "{device_id}"),
        {
            "GET": devices.get_device,
            "POST": devices.update_device,
            "PATCH": devices.update_device,
            "PUT": devices.device_action,
            "DELETE": devices.delete_device,
        },
    ),
    Route(("devices", "{device_id}", "sync"), {"POST": devices.sync_device}),
    # not in Kazoo 4.3: the URL and body the seed document shows for NOTIFY
    Route(
        ("devices", "{device_id}", "notify"),
        {"POST": devices.notify_device, "PUT": devices.notify_device},
    ),
    Route(
        ("devices", "{device_id}", "quickcall", "{number}"),
        {"GET": devices.quickcall, "POST": devices.quickcall},
        public=("GET",),  # `cb_devices:authenticate/1` lets only GET quickcall in without a token
    ),
    Route(
        ("registrations",),
        {"GET": registrations.list_registrations, "DELETE": registrations.flush_all},
    ),
    Route(("registrations", "count"), {"GET": registrations.count_registrations}),
    Route(("registrations", "{username}"), {"DELETE": registrations.flush_one}),
]


def build_app(sim: Simulator) -> web.Application:
    @web.middleware
    async def publish_after_reply(request: web.Request, handler: Handler) -> web.StreamResponse:
        """A request's document events go out once its reply is sent (kazoo-blackhole.md
        §11 b.4), even when the handler failed after saving."""
        pending: list[Event] = []
        token = PENDING_EVENTS.set(pending)
        try:
            response = await handler(request)
            if pending:
                with contextlib.suppress(ConnectionError):  # the client left: aiohttp's case
                    await response.prepare(request)
                    await response.write_eof()
            return response
        finally:
            PENDING_EVENTS.reset(token)
            for event in pending:
                sim.events.publish(event)

    app = web.Application(client_max_size=MAX_UPLOAD_BYTES * 2, middlewares=[publish_after_reply])
    pipeline = Pipeline(sim, Router(ROUTES))
    # the bound coroutine method: aiohttp deprecates callables that are not coroutine
    # functions; `[\s\S]`, not `.`, as a decoded segment may hold a newline (`%0A`)
    app.router.add_route("*", r"/{version:v[0-9]+}/{path:[\s\S]*}", pipeline.__call__)
    app.router.add_route("*", "/{version:v[0-9]+}", pipeline.__call__)
    return app
