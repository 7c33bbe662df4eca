"""`GET /v2/schemas` and `GET /v2/schemas/{name}` (no token needed)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from kazoodesk.simulator.http.envelope import AUTO, Call, Reply, bad_identifier

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator


async def list_schemas(call: Call, sim: Simulator) -> Reply:
    internals = call.flag("internals", False)
    names = [n for n in sim.schemas.names() if internals or not n.startswith("kapi.")]
    return Reply(names, revision=AUTO)


async def get_schema(call: Call, sim: Simulator) -> Reply:
    name = call.params["name"]
    try:
        document = sim.schemas.document(name)
    except KeyError:
        raise bad_identifier(name) from None
    data = {k: v for k, v in document.items() if k != "_id"}
    data["id"] = name
    digest = hashlib.md5(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return Reply(data, revision=f"1-{digest}")
