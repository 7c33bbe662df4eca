"""Logging in, renewing a refused token, the working account and the account tree, against
the real simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kazoo_support import ACME_LOGIN, RecordingTransport, logged_in, login_of

from helpers import ACME, DEMO, GLOBEX, MASTER, Server, own_server
from kazoodesk.kazoo import AuthInfo, KazooClient, KazooError


def test_user_login(demo_server: Server) -> None:
    async def scenario() -> tuple[AuthInfo, str]:
        async with KazooClient(demo_server.api) as client:
            auth = await client.login(**login_of(demo_server.ready))
            return auth, client.account_id

    auth, working = asyncio.run(scenario())
    assert auth.account_id == DEMO == working
    assert auth.account_name == "Demo Co"
    assert auth.owner_id  # the admin user
    assert auth.token.count(".") == 2  # a JWT
    assert auth.details["account_id"] == DEMO
    assert auth.token not in repr(auth)  # kept out of logs


def test_api_key_login(demo_server: Server) -> None:
    async def scenario() -> AuthInfo:
        async with KazooClient(demo_server.api) as client:
            auth = await client.login(api_key=demo_server.ready["api_key"])
            assert await client.list_devices()  # the token works
            return auth

    auth = asyncio.run(scenario())
    assert (auth.account_id, auth.account_name, auth.owner_id) == (DEMO, "Demo Co", None)


def test_a_wrong_password_is_a_401_with_kazoo_s_message(demo_server: Server) -> None:
    async def scenario() -> None:
        async with KazooClient(demo_server.api) as client:
            who = {**login_of(demo_server.ready), "password": "not-the-password"}
            with pytest.raises(KazooError) as caught:
                await client.login(**who)
            assert client.auth is None
            error = caught.value
            assert (error.status, error.message) == (401, "invalid credentials")
            assert "check the user name, password and account name" in str(error)

    asyncio.run(scenario())


def test_an_unknown_api_key_is_kazoo_s_404(demo_server: Server) -> None:
    async def scenario() -> None:
        async with KazooClient(demo_server.api) as client:
            with pytest.raises(KazooError) as caught:
                await client.login(api_key="0" * 64)
            assert caught.value.status == 404
            assert str(caught.value) == "not found: unknown API key"

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "keywords",
    [
        {},
        {"username": "admin", "password": "x"},
        {"api_key": "k", "username": "admin"},
    ],
)
def test_login_wants_one_complete_way_in(keywords: dict[str, str]) -> None:
    async def scenario() -> None:
        async with KazooClient("http://127.0.0.1:9/v2") as client:
            with pytest.raises(ValueError):
                await client.login(**keywords)

    asyncio.run(scenario())


def test_calls_before_login_have_no_working_account() -> None:
    async def scenario() -> None:
        async with KazooClient("http://127.0.0.1:9") as client:
            with pytest.raises(RuntimeError, match="log in"):
                await client.list_devices()

    asyncio.run(scenario())


def test_a_refused_token_is_renewed_once_and_the_call_retried(demo_server: Server) -> None:
    transport = RecordingTransport()

    async def scenario() -> tuple[str, str, int]:
        client = await logged_in(demo_server, transport=transport)
        async with client:
            assert client.auth is not None
            first = client.auth.token
            client.auth.token = first[:-4] + "AAAA"  # its signature no longer matches
            rows = await client.list_devices()
            assert client.auth is not None
            return first, client.auth.token, len(rows)

    first, renewed, count = asyncio.run(scenario())
    assert count == 31
    assert renewed != first[:-4] + "AAAA"
    statuses = [(method, path.split("/")[0], status) for method, path, status in transport.seen]
    assert statuses == [
        ("PUT", "user_auth", 201),
        ("GET", "accounts", 401),
        ("PUT", "user_auth", 201),
        ("GET", "accounts", 200),
    ]


def test_concurrent_refused_calls_log_in_again_only_once(demo_server: Server) -> None:
    transport = RecordingTransport()

    async def scenario() -> None:
        client = await logged_in(demo_server, transport=transport)
        async with client:
            assert client.auth is not None
            client.auth.token = "not-a-token"
            await asyncio.gather(client.get_account(), client.list_users(), client.list_devices())

    asyncio.run(scenario())
    assert transport.paths("PUT").count("user_auth") == 2  # the login, then one renewal


@pytest.fixture
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the test's own whose tokens expire as soon as they are issued."""
    with own_server(tmp_path_factory, "expiring-tokens") as server:
        sim = server.runner.sim
        assert sim is not None
        sim.tokens.lifetime_s = 0
        yield server


def test_a_second_401_raises(short_lived: Server) -> None:
    transport = RecordingTransport()

    async def scenario() -> None:
        client = await logged_in(short_lived, transport=transport)
        async with client:
            with pytest.raises(KazooError) as caught:
                await client.list_devices()
            assert caught.value.status == 401
            assert caught.value.message == "invalid credentials"

    asyncio.run(scenario())
    assert [path.split("/")[0] for path in transport.paths()] == [
        "user_auth",
        "accounts",
        "user_auth",
        "accounts",
    ]


def test_an_api_key_login_is_renewed_with_the_key(short_lived: Server) -> None:
    transport = RecordingTransport()

    async def scenario() -> None:
        async with KazooClient(short_lived.api, transport=transport) as client:
            await client.login(api_key=short_lived.ready["api_key"])
            with pytest.raises(KazooError):
                await client.get_account()

    asyncio.run(scenario())
    assert transport.paths("PUT") == ["api_auth", "api_auth"]


def test_the_working_account_follows_the_login_and_can_be_a_descendant(
    demo_server: Server,
) -> None:
    async def scenario() -> None:
        client = await logged_in(demo_server, ACME_LOGIN)
        async with client:
            assert client.account_id == ACME
            assert (await client.get_account())["name"] == "Acme Telecom"
            assert await client.list_devices() == []  # the reseller has none of its own
            client.account_id = DEMO
            assert (await client.get_account())["name"] == "Demo Co"
            assert len(await client.list_devices()) == 31
            assert (await client.get_account(ACME))["name"] == "Acme Telecom"

    asyncio.run(scenario())


def test_an_account_outside_the_login_s_tree_is_forbidden(demo_server: Server) -> None:
    async def scenario() -> None:
        client = await logged_in(demo_server)
        async with client:
            client.account_id = GLOBEX
            with pytest.raises(KazooError) as caught:
                await client.list_devices()
            assert (caught.value.status, caught.value.message) == (403, "forbidden")
            assert "may not reach that account" in str(caught.value)

    asyncio.run(scenario())


def test_the_reseller_s_tree_holds_its_customers(demo_server: Server) -> None:
    async def scenario() -> list[dict[str, object]]:
        client = await logged_in(demo_server, ACME_LOGIN)
        async with client:
            return await client.account_tree()

    tree = asyncio.run(scenario())
    assert [(row["id"], row["name"], row["parent_id"]) for row in tree] == [
        (ACME, "Acme Telecom", None),
        (DEMO, "Demo Co", ACME),
    ]
    assert tree[0]["realm"] == "acme.kazoodesk.test"
    assert tree[0]["tree"] == [MASTER]  # as far as its descendants tell
    assert tree[1]["tree"] == [MASTER, ACME]


def test_a_customer_s_tree_is_itself(demo_server: Server) -> None:
    async def scenario() -> list[dict[str, object]]:
        client = await logged_in(demo_server)
        async with client:
            return await client.account_tree()

    assert asyncio.run(scenario()) == [
        {
            "id": DEMO,
            "name": "Demo Co",
            "realm": "demo.kazoodesk.test",
            "tree": [],
            "parent_id": None,
        }
    ]


def test_the_master_s_tree_is_every_account_parents_first(demo_server: Server) -> None:
    async def scenario() -> list[dict[str, object]]:
        client = await logged_in(demo_server, demo_server.ready["master"])
        async with client:
            return await client.account_tree()

    tree = asyncio.run(scenario())
    ids = [row["id"] for row in tree]
    assert ids[0] == MASTER and set(ids) == {MASTER, ACME, DEMO, GLOBEX}
    assert ids.index(ACME) < ids.index(DEMO)


def test_users_of_the_working_account(demo_server: Server) -> None:
    async def scenario() -> list[dict[str, object]]:
        client = await logged_in(demo_server)
        async with client:
            return await client.list_users()

    users = asyncio.run(scenario())
    assert len(users) == 6
    assert {"alice.chen", "emma.larsen"} <= {user.get("username") for user in users}
