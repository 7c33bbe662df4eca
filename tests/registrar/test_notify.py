"""NOTIFY to registered phones (kazoodesk/simulator/registrar/notify.py via Registrar.notify):
check-sync delivered, a 401 from the phone answered with the device's credentials, Timer E/F
on UDP, TCP over the phone's connection."""

from __future__ import annotations

import asyncio

import pytest
from sip_client import Phone, SipClient, device, run, running_registrar
from sip_samples import REALM

from kazoodesk.simulator.registrar.changes import RegistrarSettings
from kazoodesk.simulator.registrar.digest import build_challenge, parse_credentials, verify_response
from kazoodesk.simulator.registrar.message import SipMessage
from kazoodesk.simulator.registrar.notify import NotifyResult
from kazoodesk.simulator.registrar.transactions import ClientTimers

pytestmark = pytest.mark.usefixtures("sip_front")  # alone, and with the SIP front process

FAST = RegistrarSettings(client_timers=ClientTimers(t1_s=0.05, t2_s=0.2, timer_f_s=0.6))


async def next_notify(client: SipClient, cseq: int | None = None) -> SipMessage:
    while True:
        msg = await asyncio.wait_for(client.requests.get(), 3)
        if msg.method == "NOTIFY" and (cseq is None or msg.cseq == cseq):
            return msg


def test_check_sync_answered_after_a_digest_challenge_from_the_phone() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()
            task = r.registrar.notify((REALM, "alice"), "check-sync;reboot=true")

            first = await next_notify(phone.client)
            assert first.uri == phone.contact.strip("<>")
            assert first.get("event") == "check-sync;reboot=true"
            assert first.get("subscription-state") == "terminated"
            assert first.get("x-kazoo-aor") == f"sip:alice@{REALM}"
            phone.client.answer(first, 401, [("WWW-Authenticate", build_challenge("phone", "n1"))])

            second = await next_notify(phone.client, cseq=2)
            assert second.call_id == first.call_id
            creds = parse_credentials(second.get("authorization") or "")
            assert (creds.username, creds.realm, creds.uri) == ("alice", "phone", first.uri)
            assert verify_response(creds, "NOTIFY", password="pw-alice")
            phone.client.answer(second, 200, [])

            (outcome,) = await task
            assert (outcome.result, outcome.code, outcome.authenticated) == (
                NotifyResult.ANSWERED, 200, True
            )  # fmt: skip
            assert outcome.target == phone.client.local
            phone.client.close()

    run(story())


def test_a_silent_phone_gets_retransmissions_then_the_notify_times_out() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), settings=FAST) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()
            (outcome,) = await r.registrar.notify((REALM, "alice"), "check-sync")
            assert outcome.result is NotifyResult.TIMED_OUT
            assert outcome.code is None
            assert phone.client.requests.qsize() >= 4  # T1 50 ms doubling to T2 within 600 ms
            phone.client.close()

    run(story())


def test_body_and_content_type_and_a_binding_as_target() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            await phone.register()
            (binding,) = r.registrar.bindings_of(REALM, "alice")
            task = r.registrar.notify(binding, "custom", "hello", "text/plain")
            notify = await next_notify(phone.client)
            assert (notify.body, notify.get("content-type")) == (b"hello", "text/plain")
            phone.client.answer(notify, 489, [])
            (outcome,) = await task
            assert (outcome.result, outcome.code, outcome.ok) == (NotifyResult.ANSWERED, 489, False)
            phone.client.close()

    run(story())


def test_nothing_registered_means_nothing_sent() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            assert await r.registrar.notify((REALM, "alice"), "check-sync") == []

    run(story())


def test_notify_over_the_phones_tcp_connection() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), settings=FAST) as r:
            phone = Phone(await SipClient.tcp(r.tcp), "alice")
            await phone.register()
            task = r.registrar.notify((REALM, "alice"), "check-sync")
            notify = await next_notify(phone.client)
            assert notify.top_via.transport == "TCP"
            phone.client.answer(notify, 200, [])
            (answered,) = await task
            assert (answered.result, answered.code) == (NotifyResult.ANSWERED, 200)

            (silent,) = await r.registrar.notify((REALM, "alice"), "check-sync")
            assert silent.result is NotifyResult.SENT  # written once, never retransmitted
            await asyncio.sleep(0.1)
            assert phone.client.requests.qsize() == 1

            phone.client.close()
            await asyncio.sleep(0.1)
            (gone,) = await r.registrar.notify((REALM, "alice"), "check-sync")
            assert gone.result is NotifyResult.FAILED

    run(story())
