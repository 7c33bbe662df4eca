"""The registrar over real sockets (kazoodesk/simulator/registrar/service.py): REGISTER as
Kazoo answers it (sip-registrar.md §0-§4), OPTIONS, 405, retransmissions, expiry, events."""

from __future__ import annotations

import asyncio

import pytest
from sip_client import Phone, SipClient, device, run, running_registrar
from sip_samples import REALM, SECRET

from kazoodesk.simulator.registrar.auth import AuthSettings
from kazoodesk.simulator.registrar.changes import RegistrarSettings
from kazoodesk.simulator.registrar.digest import parse_challenge
from kazoodesk.simulator.registrar.headers import Via
from kazoodesk.simulator.registrar.message import build_request, new_branch
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.ratelimit import RateLimitPolicy
from kazoodesk.simulator.registrar.register import RegistrarPolicy

pytestmark = pytest.mark.usefixtures("sip_front")  # alone, and with the SIP front process

MULTI = RegistrarPolicy(single_binding=False)


# -- register, refresh, unregister ----------------------------------------------------------


def test_register_with_digest_and_qop_then_refresh() -> None:
    async def story() -> None:
        async with running_registrar(alice := device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")

            challenge = await phone.client.request(phone.register_request())
            assert challenge.status == 401
            offered = parse_challenge(challenge.get("www-authenticate") or "")
            assert (offered.realm, offered.qop, offered.stale) == (REALM, ("auth",), False)
            ok = await phone.client.request(
                phone.register_request(authorization=phone.authorization(challenge))
            )
            assert ok.status == 200
            assert ok.values("contact") == [f"{phone.contact};expires=300"]
            assert (ok.get("date") or "").endswith(" GMT")

            again = await phone.register(expires=600)
            assert again.status == 200
            assert again.values("contact") == [f"{phone.contact};expires=600"]
            assert r.kinds() == ["registered", "refreshed"]
            assert r.events[0].device == alice
            (binding,) = r.registrar.bindings_of(REALM, "alice")
            assert (binding.device_id, binding.cseq, binding.user_agent) == (
                alice.device_id, 4, "test-phone"
            )  # fmt: skip
            phone.client.close()

    run(story())


def test_register_without_qop_rfc2069_digest() -> None:
    async def story() -> None:
        async with running_registrar(device("bob")) as r:
            phone = Phone(await SipClient.udp(r.udp), "bob")
            phone.use_qop = False
            assert (await phone.register()).status == 200
            assert r.registrar.count(REALM) == 1
            phone.client.close()

    run(story())


def test_kazoo_style_challenge_without_qop_is_a_setting() -> None:
    async def story() -> None:
        settings = RegistrarSettings(auth=AuthSettings(challenge_qop=None))
        async with running_registrar(device("bob"), settings=settings) as r:
            phone = Phone(await SipClient.udp(r.udp), "bob")
            challenge = await phone.client.request(phone.register_request())
            assert "qop" not in (challenge.get("www-authenticate") or "")
            assert (await phone.register()).status == 200
            phone.client.close()

    run(story())


def test_unregister_one_binding_with_expires_zero() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), policy=MULTI) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            desk = "<sip:alice@192.0.2.7:5062>"
            assert (await phone.register()).status == 200
            assert (await phone.register(contact=desk)).status == 200
            assert r.registrar.count() == 2

            gone = await phone.register(expires=0)
            assert gone.status == 200
            assert gone.values("contact") == [f"{desk};expires=300"]
            assert r.kinds() == ["registered", "registered", "unregistered"]
            phone.client.close()

    run(story())


def test_unregister_all_with_star() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), policy=MULTI) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()
            await phone.register(contact="<sip:alice@192.0.2.7:5062>")

            gone = await phone.register(expires=0, contact="*")
            assert gone.status == 200
            assert gone.get("contact") is None
            assert r.registrar.count() == 0
            assert r.kinds().count("unregistered") == 2
            phone.client.close()

    run(story())


def test_one_binding_per_aor_by_default_a_new_contact_replaces_the_old() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()
            moved = await phone.register(contact="<sip:alice@192.0.2.7:5062>")
            assert moved.values("contact") == ["<sip:alice@192.0.2.7:5062>;expires=300"]
            assert r.kinds() == ["registered", "unregistered", "registered"]
            phone.client.close()

    run(story())


def test_cseq_must_grow_per_call_id() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()  # CSeq 1 (401) and 2 (200)
            await phone.register()  # CSeq 3 and 4
            phone.cseq = 0  # a delayed REGISTER from before: CSeq 2 < 4
            first = await phone.client.request(phone.register_request())
            late = await phone.client.request(
                phone.register_request(authorization=phone.authorization(first))
            )
            assert (late.status, late.reason) == (400, "Out of order request")
            phone.client.close()

    run(story())


# -- bounds, then challenge, then credentials -----------------------------------------------


def test_423_with_min_expires_comes_before_any_challenge() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            brief = await phone.client.request(phone.register_request(expires=60))
            assert (brief.status, brief.get("min-expires")) == (423, "300")
            missing = await phone.client.request(phone.register_request(expires=None))
            assert (missing.status, missing.reason) == (400, "Missing Expires")
            assert (await phone.register(expires=300)).status == 200
            phone.client.close()

    run(story())


def test_wrong_password_is_challenged_again_and_reported() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            wrong = await phone.register(password="guess")
            assert wrong.status == 401
            assert parse_challenge(wrong.get("www-authenticate") or "").qop == ("auth",)
            assert r.kinds() == ["auth_failed"]
            assert r.events[0].reason == "wrong password"
            assert r.registrar.count() == 0
            phone.client.close()

    run(story())


def test_wrong_password_gets_403_with_the_setting() -> None:
    async def story() -> None:
        settings = RegistrarSettings(auth=AuthSettings(wrong_password_status=403))
        async with running_registrar(device("alice"), settings=settings) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            assert (await phone.register(password="guess")).status == 403
            phone.client.close()

    run(story())


# the test's clock is in this process: the front process issues nonces by the real one
@pytest.mark.parametrize("sip_front", [False], indirect=True, ids=["one-process"])
def test_stale_nonce_with_the_right_password_gets_stale_true_then_registers() -> None:
    async def story() -> None:
        now = [1_000_000.0]
        nonces = NonceSigner(SECRET, lifetime_s=30, clock=lambda: now[0])
        async with running_registrar(device("alice"), nonces=nonces) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            challenge = await phone.client.request(phone.register_request())
            now[0] += 31
            stale = await phone.client.request(
                phone.register_request(authorization=phone.authorization(challenge))
            )
            assert stale.status == 401
            assert parse_challenge(stale.get("www-authenticate") or "").stale
            ok = await phone.client.request(
                phone.register_request(authorization=phone.authorization(stale))
            )
            assert ok.status == 200
            assert "auth_failed" not in r.kinds()
            phone.client.close()

    run(story())


def test_unknown_realm_is_404_or_403_by_setting() -> None:
    async def story() -> None:
        for status in (404, 403):
            settings = RegistrarSettings(unknown_realm_status=status)
            async with running_registrar(device("alice"), settings=settings) as r:
                phone = Phone(await SipClient.udp(r.udp), "alice")
                phone.realm = "elsewhere.example"
                assert (await phone.register()).status == status
                phone.client.close()

    run(story())


def test_disabled_and_unknown_devices_get_403() -> None:
    async def story() -> None:
        async with running_registrar(device("carol", enabled=False)) as r:
            client = await SipClient.udp(r.udp)
            assert (await Phone(client, "carol").register()).status == 403
            assert (await Phone(client, "nobody").register()).status == 403
            assert [e.reason for e in r.events] == ["device disabled", "unknown device"]
            client.close()

    run(story())


def test_ip_authenticated_device_registers_without_digest_from_its_address_only() -> None:
    async def story() -> None:
        trunk = device("pbx", password="", method="ip", ip="127.0.0.2")
        async with running_registrar(trunk) as r:
            from_its_ip = Phone(await SipClient.udp(r.udp, local_ip="127.0.0.2"), "pbx")
            ok = await from_its_ip.client.request(from_its_ip.register_request())
            assert ok.status == 200
            assert r.events[0].device == trunk
            (binding,) = r.registrar.bindings_of(REALM, "pbx")
            assert binding.device_id == trunk.device_id

            elsewhere = Phone(await SipClient.udp(r.udp), "pbx")
            assert (await elsewhere.client.request(elsewhere.register_request())).status == 401
            from_its_ip.client.close()
            elsewhere.client.close()

    run(story())


# -- transactions, other methods --------------------------------------------------------------


def test_a_retransmitted_register_gets_the_same_answer_and_changes_nothing_twice() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            first = phone.register_request()
            challenge = await phone.client.request(first)
            # absorbed, not challenged anew: sipp fails a call on a second 401 with a new nonce
            repeat = await phone.client.request(first)
            assert repeat.headers == challenge.headers  # same nonce, same To tag

            signed = phone.register_request(authorization=phone.authorization(challenge))
            answers = [await phone.client.request(signed) for _ in range(3)]
            assert all(a.headers == answers[0].headers for a in answers)
            assert answers[0].status == 200
            assert r.kinds() == ["registered"]

            r.registrar.server_transactions.clear()  # the cached answer is gone (Timer J)
            late = await phone.client.request(signed)
            assert late.status == 200  # Kamailio's R_RETRANS: same Call-ID and CSeq → 200
            assert r.kinds() == ["registered"]
            phone.client.close()

    run(story())


def options(client: SipClient, method: str = "OPTIONS") -> bytes:
    host, port = client.local
    return build_request(
        method, f"sip:{REALM}", via=Via("UDP", host, port, {"branch": new_branch()}),
        from_addr=f"<sip:probe@{REALM}>;tag=p", to_addr=f"<sip:{REALM}>",
        call_id=f"{method}-1@test", cseq=1,
    )  # fmt: skip


def test_options_200_info_405_with_allow_and_responses_never_answered() -> None:
    async def story() -> None:
        async with running_registrar() as r:
            client = await SipClient.udp(r.udp)
            ok = await client.request(options(client))
            assert ok.status == 200
            refused = await client.request(options(client, "INFO"))
            assert (refused.status, refused.get("allow")) == (405, "REGISTER, OPTIONS")

            client.send(b"SIP/2.0 200 OK\r\n" + options(client).split(b"\r\n", 1)[1])
            client.send(options(client, "ACK"))
            with_require = options(client).replace(
                b"Content-Length", b"Require: gruu\r\nContent-Length"
            )
            bad_ext = await client.request(with_require)
            assert (bad_ext.status, bad_ext.get("unsupported")) == (420, "gruu")
            assert client.responses.empty()  # the stray response and the ACK got nothing
            client.close()

    run(story())


def test_a_broken_request_that_can_be_answered_gets_400_garbage_gets_nothing() -> None:
    async def story() -> None:
        async with running_registrar() as r:
            client = await SipClient.udp(r.udp)
            wrong_cseq = options(client).replace(b"1 OPTIONS", b"1 INVITE")
            answer = await client.request(wrong_cseq)
            assert (answer.status, answer.reason) == (400, "CSeq method does not match")
            client.send(b"\x00\xff garbage")
            assert (await client.request(options(client))).status == 200
            assert client.responses.empty()
            client.close()

    run(story())


# -- expiry, flush, what the REST layer reads -------------------------------------------------


def test_the_sweep_expires_bindings_and_emits_expired() -> None:
    async def story() -> None:
        policy = RegistrarPolicy(min_expires=1)
        settings = RegistrarSettings(sweep_interval_s=0.2)
        async with running_registrar(device("alice"), policy=policy, settings=settings) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            assert (await phone.register(expires=1)).status == 200
            await r.wait_for("expired", timeout=4)
            assert r.registrar.count() == 0
            assert r.events[-1].binding is not None
            phone.client.close()

    run(story())


def test_records_status_and_flush() -> None:
    async def story() -> None:
        alice, bob = device("alice", owner_id="u1"), device("bob")
        async with running_registrar(alice, bob) as r:
            client = await SipClient.udp(r.udp)
            await Phone(client, "alice").register()
            await Phone(client, "bob").register(contact="<sip:bob@192.0.2.8:5070>")

            rows = {row["username"]: row for row in r.registrar.records(REALM)}
            assert set(rows) == {"alice", "bob"}
            row = rows["alice"]
            assert (row["authorizing_id"], row["owner_id"], row["account_id"]) == (
                alice.device_id, "u1", alice.account_id
            )  # fmt: skip
            assert (row["source_ip"], row["user_agent"], row["expires"]) == (
                "127.0.0.1", "test-phone", 300
            )  # fmt: skip
            assert r.registrar.registered_device_ids(REALM) == {alice.device_id, bob.device_id}

            assert [b.username for b in r.registrar.flush(REALM, "Alice")] == ["alice"]
            assert r.events[-1].reason == "flushed"
            assert r.registrar.count(REALM) == 1
            assert len(r.registrar.flush(REALM)) == 1
            assert r.registrar.count() == 0
            client.close()

    run(story())


# -- brute force ------------------------------------------------------------------------------


def test_a_brute_forcer_is_slowed_while_a_good_phone_still_registers() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), device("bob")) as r:
            attacker = Phone(await SipClient.udp(r.udp), "alice")
            statuses = [(await attacker.register(password=f"guess{i}")).status for i in range(12)]
            assert statuses[:5] == [401] * 5  # checked: wrong password, re-challenged
            assert statuses[5:] == [403] * 7  # refused unchecked
            assert r.kinds().count("auth_failed") == 5

            right = await attacker.register()  # even the right password is not checked now
            assert right.status == 403

            good = Phone(await SipClient.udp(r.udp), "bob")  # same source IP, other device
            for _ in range(3):
                assert (await good.register()).status == 200
            attacker.client.close()
            good.client.close()

    run(story())


def test_rate_limit_drop_mode_stays_silent() -> None:
    async def story() -> None:
        settings = RegistrarSettings(rate_limit=RateLimitPolicy(per_user_burst=1, action="drop"))
        async with running_registrar(device("alice"), settings=settings) as r:
            attacker = Phone(await SipClient.udp(r.udp), "alice")
            assert (await attacker.register(password="x")).status == 401
            challenge = await attacker.client.request(attacker.register_request())
            guess = attacker.authorization(challenge, "y")
            attacker.client.send(attacker.register_request(authorization=guess))
            try:
                await attacker.client.response(timeout=0.3)
            except TimeoutError:
                pass
            else:
                raise AssertionError("a blocked guess was answered")
            attacker.client.close()

    run(story())


def test_requests_from_many_phones_at_once() -> None:
    async def story() -> None:
        users = [device(f"user{i:03d}") for i in range(50)]
        async with running_registrar(*users) as r:
            clients = [await SipClient.udp(r.udp) for _ in range(10)]
            phones = [Phone(clients[i % 10], u.username) for i, u in enumerate(users)]
            for batch in range(5):  # one outstanding REGISTER per socket at a time
                group = phones[batch * 10 : batch * 10 + 10]
                answers = await asyncio.gather(*(p.register() for p in group))
                assert [a.status for a in answers] == [200] * 10
            assert r.registrar.count(REALM) == 50
            for client in clients:
                client.close()

    run(story())
