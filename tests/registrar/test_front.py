"""The SIP front process (`serve --sip-front`): what it answers itself, what it hands to the
registrar, and its life beside the registrar. (test_service, test_sipp, test_notify and
test_pyvoip run their stories with and without it.)"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from sip_client import Phone, Running, SipClient, device, run, running_registrar
from sip_samples import REALM, SECRET, sipp_register

from helpers import Api, Server, sip_register
from kazoodesk.simulator.registrar.front import Front, FrontConfig, FrontView
from kazoodesk.simulator.registrar.message import SipMessage, parse_message
from kazoodesk.simulator.registrar.nonces import NonceSigner, NonceState
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

SOURCE = ("127.0.0.1", 5061)
IP_PHONE = "127.0.0.9"


class Recorder:
    """The front's UDP socket and its channel to the registrar, as lists."""

    name = "UDP"
    reliable = False

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.forwarded: list[tuple[bytes, tuple[str, int]]] = []

    def send(self, data: bytes, addr: tuple[str, int]) -> bool:
        self.sent.append(data)
        return True

    def forward(self, data: bytes, addr: tuple[str, int], link: object) -> None:
        self.forwarded.append((data, addr))


def front_with(recorder: Recorder) -> Front:
    config = FrontConfig(nonce_key=NonceSigner(SECRET).key.hex())
    front = Front(config, recorder.forward)
    front.view = FrontView(frozenset({REALM}), frozenset({IP_PHONE}))
    return front


def answer(recorder: Recorder) -> SipMessage:
    return parse_message(recorder.sent[-1])


def status(recorder: Recorder) -> int:
    return int(recorder.sent[-1].split(b" ", 2)[1])


def test_the_front_challenges_an_unsigned_register_with_a_nonce_the_registrar_accepts() -> None:
    recorder = Recorder()
    front = front_with(recorder)
    request = sipp_register()

    front.handle(request, SOURCE, recorder)
    front.handle(request, SOURCE, recorder)  # a retransmission

    challenge = answer(recorder)
    assert challenge.status == 401 and not recorder.forwarded
    assert recorder.sent[0] == recorder.sent[1]  # the same nonce and To tag
    value = challenge.get("www-authenticate") or ""
    nonce = value.split('nonce="', 1)[1].split('"', 1)[0]
    assert NonceSigner(SECRET).check(nonce, REALM) is NonceState.VALID


def test_the_front_answers_options_other_methods_and_garbage_itself() -> None:
    recorder = Recorder()
    front = front_with(recorder)
    register = sipp_register()

    front.handle(register.replace(b"REGISTER", b"OPTIONS"), SOURCE, recorder)
    assert status(recorder) == 200
    front.handle(register.replace(b"REGISTER", b"INFO"), SOURCE, recorder)
    assert status(recorder) == 405
    front.handle(register.replace(b"CSeq: 1 REGISTER", b"CSeq: x REGISTER"), SOURCE, recorder)
    assert status(recorder) == 400
    front.handle(b"\x00garbage", SOURCE, recorder)
    assert len(recorder.sent) == 3 and not recorder.forwarded


@pytest.mark.parametrize(
    ("request_bytes", "source"),
    [
        (sipp_register(authorization='Digest username="alice"'), SOURCE),
        (sipp_register().replace(b"User-Agent", b"AUTHORIZATION: Digest x\r\nUser-Agent"), SOURCE),
        (sipp_register(domain="new-realm.example"), SOURCE),
        (sipp_register(), (IP_PHONE, 5060)),
        (sipp_register(expires="30"), SOURCE),  # 423: the registrar's policy check
        (sipp_register(expires=None), SOURCE),  # 400 Missing Expires
        (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n", SOURCE),  # to a NOTIFY
    ],
    ids=["signed", "signed-upper-case", "unknown-realm", "ip-device", "too-brief", "no-expires",
         "response"],
)  # fmt: skip
def test_the_front_hands_on_what_needs_the_registrar(
    request_bytes: bytes, source: tuple[str, int]
) -> None:
    recorder = Recorder()
    front = front_with(recorder)

    front.handle(request_bytes, source, recorder)
    front.handle(request_bytes, source, recorder)

    assert recorder.forwarded == [(request_bytes, source)] * 2
    assert not recorder.sent


def test_a_transaction_stays_with_the_registrar_when_the_view_changes() -> None:
    recorder = Recorder()
    front = front_with(recorder)
    request = sipp_register(domain="new-realm.example")
    front.handle(request, SOURCE, recorder)

    front.view = FrontView(frozenset({REALM, "new-realm.example"}), frozenset())
    front.handle(request, SOURCE, recorder)  # its retransmission
    front.handle(sipp_register(domain="new-realm.example", branch="z9hG4bK-2"), SOURCE, recorder)

    assert len(recorder.forwarded) == 2
    assert status(recorder) == 401  # a new transaction: the front's now


# -- with the process ----------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and " Z " not in stat.read_text()  # a zombie has ended


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def test_with_the_front_process_the_challenge_never_reaches_the_registrar() -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), front=True) as r:
            assert r.registrar.front_pid is not None and alive(r.registrar.front_pid)
            phone = Phone(await SipClient.udp(r.udp), "alice")

            assert (await phone.register()).status == 200

            assert r.kinds() == ["registered"]
            # the registrar kept the answer to the signed REGISTER only
            assert len(r.registrar.server_transactions) == 1
            phone.client.close()

    run(story())


def test_a_realm_created_after_the_start_registers_at_once_and_then_the_front_challenges() -> None:
    async def story() -> None:
        async with running_registrar(front=True) as r:
            r.directory.realms.add("later.example")
            r.directory.add(device("bob", realm="later.example"))
            phone = Phone(await SipClient.udp(r.udp), "bob")
            phone.realm = "later.example"

            assert (await phone.register()).status == 200  # through the registrar
            await asyncio.sleep(1.5)  # the view is sent on within a second
            r.registrar.server_transactions.clear()
            assert (await phone.register()).status == 200

            assert len(r.registrar.server_transactions) == 1  # the challenge was the front's
            phone.client.close()

    run(story())


def kill(r: Running, pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def outgrow_the_channel(r: Running, pid: int) -> None:
    r.directory.realms.update(f"realm-{i:06d}.example.com" for i in range(10_000))


@pytest.mark.parametrize(
    ("end", "logged"),
    [(kill, "no SIP front process any more"), (outgrow_the_channel, "the SIP front's view is")],
    ids=["killed", "view-too-large"],
)
def test_when_the_front_ends_the_registrar_reads_the_socket_again(
    end: Callable[[Running, int], None], logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def story() -> None:
        async with running_registrar(device("alice"), front=True) as r:
            pid = r.registrar.front_pid
            assert pid is not None
            end(r, pid)
            await wait_until(lambda: not alive(pid))
            phone = Phone(await SipClient.udp(r.udp), "alice")

            assert (await phone.register()).status == 200

            assert logged in caplog.text
            phone.client.close()

    run(story())


def test_stopping_the_registrar_ends_the_front_process() -> None:
    async def story() -> int:
        async with running_registrar(front=True) as r:
            pid = r.registrar.front_pid
            assert pid is not None and alive(pid)
        return pid

    pid = run(story())
    assert not alive(pid)


def test_serve_with_sip_front_registers_a_device_of_the_store(tmp_path: Path) -> None:
    runner = SimulatorRunner(ServeOptions(tmp_path, port=0, demo=True, sip_front=True))
    server = Server(runner, runner.start_in_thread())
    try:
        registrar = runner.sim.registrar if runner.sim is not None else None
        assert registrar is not None and registrar.front_pid is not None
        pid = registrar.front_pid
        with Api.logged_in(server) as api:
            sip = {"username": "front-test", "password": "front-secret-1"}
            api.ok("PUT", f"{api.account}/devices", {"name": "Front test", "sip": sip})

            status = sip_register(server, "front-test", "front-secret-1", server.ready["realm"])

            assert status == 200
            count = api.ok("GET", f"{api.account}/registrations/count")
            assert count["data"]["count"] == 1
        assert len(registrar.server_transactions) == 1  # the challenge was the front's
    finally:
        runner.stop_thread()
    assert not alive(pid)
