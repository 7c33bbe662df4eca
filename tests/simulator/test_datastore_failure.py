"""A store that can no longer write answers Kazoo's 503, and reads keep working."""

from __future__ import annotations

from helpers import Api, Server, own_server_fixture

read_only_server = own_server_fixture("read-only-store", scope="function")


def test_a_failing_write_is_a_503_and_reads_still_work(read_only_server: Server) -> None:
    api = Api.logged_in(read_only_server)
    before = api.ok("GET", f"{api.account}/devices", params={"paginate": "false"})["data"]
    store = read_only_server.runner.sim.store  # type: ignore[union-attr]
    # as if the disk turned read-only under the running server
    store.write_sync(lambda tx: tx.conn.execute("PRAGMA query_only=1"))

    reply = api.call("PUT", f"{api.account}/devices", {"name": "Never saved"})

    assert reply.status_code == 503
    body = reply.json()
    assert (body["error"], body["message"]) == ("503", "datastore_unreachable")
    assert body["data"] == {"message": "datastore unreachable"}
    after = api.ok("GET", f"{api.account}/devices", params={"paginate": "false"})["data"]
    assert after == before
