"""`/v2/accounts/{A}/registrations` (Kazoo 4.3 `cb_registrations`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kazoodesk.simulator.http.envelope import Call, Reply, bad_identifier, forbidden
from kazoodesk.simulator.store import Transaction

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator


def _account_id(call: Call) -> str:
    assert call.account_id is not None
    return call.account_id


async def list_registrations(call: Call, sim: Simulator) -> Reply:
    return Reply(sim.store.reader.registrations(_account_id(call)))


async def count_registrations(call: Call, sim: Simulator) -> Reply:
    return Reply({"count": len(sim.store.reader.registrations(_account_id(call)))})


async def count_all_registrations(call: Call, sim: Simulator) -> Reply:
    """`/v2/registrations/count`: the system-wide count, for superduper-admins only."""
    if not sim.accounts.is_superduper(call.auth_account_id):
        raise forbidden()
    return Reply({"count": sim.store.reader.registration_count()})


async def flush_all(call: Call, sim: Simulator) -> Reply:
    account_id = _account_id(call)

    def flush(tx: Transaction) -> int:
        return tx.delete_registrations(account_id)

    await sim.store.write(flush)
    return Reply("ok")


async def flush_one(call: Call, sim: Simulator) -> Reply:
    account_id = _account_id(call)
    username = call.params["username"]
    if not sim.store.reader.lookup("sip_credentials", username.lower(), account_id):
        raise bad_identifier(username)

    def flush(tx: Transaction) -> int:
        return tx.delete_registrations(account_id, username)

    await sim.store.write(flush)
    return Reply("ok")
