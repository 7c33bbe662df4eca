"""The device calls against a simulator of this module's own (these tests write)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kazoo_support import logged_in

from helpers import NEW_DEVICE_DEFAULTS, Server, own_server_fixture, sip_register
from kazoodesk.kazoo import Document, KazooClient, KazooError

server = own_server_fixture("kazoo-client-devices")
MWI = ("Messages-Waiting: yes\r\n", "application/simple-message-summary")  # body, content type


def run_as_admin(server: Server, scenario: Any) -> Any:
    """`scenario(client)` with the demo company's admin logged in, in a loop of its own."""

    async def main() -> Any:
        client = await logged_in(server)
        async with client:
            return await scenario(client)

    return asyncio.run(main())


def test_pages_follow_next_start_key_to_the_end(server: Server) -> None:
    async def scenario(client: KazooClient) -> list[list[dict[str, Any]]]:
        return [page async for page in client.iter_devices(page_size=7)]

    pages = run_as_admin(server, scenario)
    assert [len(page) for page in pages] == [7, 7, 7, 7, 3]  # the demo company's 31 devices
    ids = [row["id"] for page in pages for row in page]
    assert len(set(ids)) == 31


def test_list_devices_is_every_page_and_takes_filters(server: Server) -> None:
    async def scenario(client: KazooClient) -> tuple[list[Any], list[Any]]:
        everything = await client.list_devices()
        softphones = await client.list_devices({"filter_device_type": "softphone"})
        return everything, softphones

    everything, softphones = run_as_admin(server, scenario)
    assert len(everything) == 31
    assert {row["name"] for row in everything} >= {"Conference Bridge (SIP URI)"}
    assert len(softphones) == 4
    assert {row["device_type"] for row in softphones} == {"softphone"}


def test_a_device_s_life(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        created = await client.create_device({"name": "Lab Phone", "sip": {"username": "lab_1"}})
        device_id = created.id
        assert device_id is not None and created.revision and created.revision.startswith("1-")
        assert created.data["enabled"] is NEW_DEVICE_DEFAULTS["enabled"]
        assert created.data["sip"]["invite_format"] == "contact"

        fetched = await client.get_device(device_id)
        assert fetched == Document(created.data, created.revision)

        edited = {**fetched.data, "name": "Lab Phone 2"}
        saved = await client.save_device(device_id, edited, fetched.revision)
        assert saved.data["name"] == "Lab Phone 2"
        assert saved.revision != fetched.revision

        patched = await client.patch_device(device_id, {"enabled": False}, saved.revision)
        assert (patched.data["name"], patched.data["enabled"]) == ("Lab Phone 2", False)
        unrevised = await client.patch_device(device_id, {"enabled": True}, None)
        assert unrevised.data["enabled"] is True  # no If-Match: last write wins

        await client.delete_device(device_id)
        with pytest.raises(KazooError) as caught:
            await client.get_device(device_id)
        assert (caught.value.status, caught.value.message) == (404, "bad identifier")
        assert device_id in str(caught.value)

    run_as_admin(server, scenario)


def test_a_stale_revision_is_a_412(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        created = await client.create_device({"name": "Contested Phone"})
        assert created.id is not None
        await client.patch_device(created.id, {"name": "Changed elsewhere"}, created.revision)
        for save in (
            client.save_device(created.id, {"name": "Mine"}, created.revision),
            client.patch_device(created.id, {"name": "Mine"}, created.revision),
        ):
            with pytest.raises(KazooError) as caught:
                await save
            assert caught.value.status == 412
            assert caught.value.message == (
                "the device was changed by someone else (revision mismatch)"
            )
        assert (await client.get_device(created.id)).data["name"] == "Changed elsewhere"
        with pytest.raises(KazooError) as caught:
            await client.delete_device(created.id, revision=created.revision)
        assert caught.value.status == 412

    run_as_admin(server, scenario)


def test_a_taken_id_is_a_409(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        taken = (await client.list_devices())[0]["id"]
        with pytest.raises(KazooError) as caught:
            await client.create_device({"id": taken, "name": "Twin"})
        error = caught.value
        assert (error.status, error.code, error.message) == (
            409,
            "datastore_conflict",
            "conflicting documents",
        )
        assert "reload and try again" in str(error)

    run_as_admin(server, scenario)


def test_field_errors_are_keyed_by_dotted_path(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        taken = next(row["username"] for row in await client.list_devices() if row.get("username"))
        with pytest.raises(KazooError) as caught:
            await client.create_device({"sip": {"username": taken, "password": "abc"}})
        error = caught.value
        assert (error.status, error.message) == (400, "validation error")
        assert error.errors == {
            "name": ["Field is required but missing"],
            "sip.username": ["SIP credentials already in use"],
            "sip.password": ["String must be at least 5 characters"],
        }
        assert "SIP credentials already in use (sip.username)" in str(error)
        assert error.data["sip.username"]["unique"]["cause"] == taken

    run_as_admin(server, scenario)


def test_an_unknown_device_is_a_404(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        for call in (
            client.get_device("0" * 32),
            client.sync_device("0" * 32),
            client.notify_device("0" * 32, "check-sync"),
            client.delete_device("0" * 32),
        ):
            with pytest.raises(KazooError) as caught:
                await call
            assert caught.value.status == 404
            assert str(caught.value) == f"not found: {'0' * 32} does not exist (or was deleted)"

    run_as_admin(server, scenario)


def test_sync_notify_and_quickcall(server: Server) -> None:
    async def scenario(client: KazooClient) -> tuple[str, ...]:
        device = next(row for row in await client.list_devices() if row.get("username"))
        synced = await client.sync_device(device["id"])
        rebooted = await client.sync_device(device["id"], reboot=True)
        notified = await client.notify_device(device["id"], "check-sync")
        with_body = await client.notify_device(
            device["id"],
            "message-summary",
            "Messages-Waiting: yes\r\n",
            "application/simple-message-summary",
        )
        originate = await client.quickcall(device["id"], "+1 (555) 010-9999")
        assert originate["endpoints"][0]["to_user"] == device["username"]
        assert originate["outbound_caller_id_name"] == "Device QuickCall"
        return synced, rebooted, notified, with_body

    assert run_as_admin(server, scenario) == (
        "sync request sent",
        "sync request sent",
        "NOTIFY sent",
        "NOTIFY sent",
    )
    sim = server.runner.sim
    assert sim is not None
    last = sim.notifications[-1]
    assert (last.event, last.body, last.content_type) == ("message-summary", *MWI)


def test_a_notify_body_needs_its_content_type(server: Server) -> None:
    async def scenario(client: KazooClient) -> None:
        with pytest.raises(ValueError):
            await client.notify_device("0" * 32, "check-sync", body="x")

    run_as_admin(server, scenario)


def test_a_user_s_devices_include_hotdesked_ones(server: Server) -> None:
    async def scenario(client: KazooClient) -> list[dict[str, Any]]:
        users = await client.list_users()
        emma = next(user for user in users if user.get("username") == "emma.larsen")
        return await client.user_devices(emma["id"])

    rows = run_as_admin(server, scenario)
    hotdesked = [row for row in rows if row.get("hotdesked")]
    assert [row["name"] for row in hotdesked] == ["Bob's Desk – Polycom VVX 450"]
    assert any(not row.get("hotdesked") for row in rows)  # and her own


def test_registrations_status_and_flush(server: Server) -> None:
    async def pick(client: KazooClient) -> Document:
        device = next(
            row
            for row in await client.list_devices({"filter_device_type": "softphone"})
            if row.get("username")
        )
        return await client.get_device(device["id"])

    phone = run_as_admin(server, pick)
    sip = phone.data["sip"]
    realm = server.ready["realm"]
    assert sip_register(server, sip["username"], sip["password"], realm) == 200

    async def scenario(client: KazooClient) -> None:
        assert phone.id in await client.registered_device_ids()
        rows = await client.registrations()
        assert [row["username"] for row in rows] == [sip["username"]]
        assert rows[0]["authorizing_id"] == phone.id
        assert await client.registration_count() == 1

        await client.flush_registration(sip["username"])
        assert await client.registration_count() == 0
        assert phone.id not in await client.registered_device_ids()

        with pytest.raises(KazooError) as caught:
            await client.flush_registration("no such user")
        assert caught.value.status == 404

    run_as_admin(server, scenario)
    assert sip_register(server, sip["username"], sip["password"], realm) == 200

    async def flush_all(client: KazooClient) -> int:
        await client.flush_registrations()
        return await client.registration_count()

    assert run_as_admin(server, flush_all) == 0
