"""Interop with a real SIP peer: sipp (Debian `sip-tester`) runs the shared scenarios
(tests/registrar/sipp/, copied from ../shared/sipp) against the registrar on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest
from sip_client import Running, device, run, running_registrar
from sip_samples import REALM

from kazoodesk.simulator.registrar.notify import NotifyResult

SIPP = shutil.which("sipp")
SCENARIOS = Path(__file__).parent / "sipp"

pytestmark = [
    pytest.mark.skipif(
        SIPP is None, reason="sipp is not installed (apt-get install -y sip-tester)"
    ),
    pytest.mark.usefixtures("sip_front"),  # alone, and with the SIP front process
]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def sipp(
    r: Running, scenario: str, cwd: Path, *args: str, timeout: float = 20, tcp: bool = False
) -> tuple[int, str]:
    """Run sipp against the registrar; (exit status, output and error log)."""
    host, port = r.tcp if tcp else r.udp
    command = [
        SIPP or "sipp", f"{host}:{port}", "-sf", str(SCENARIOS / scenario),
        "-key", "domain", REALM, "-i", "127.0.0.1", "-nostdin", "-trace_err",
        "-timeout", f"{int(timeout)}s", "-timeout_error", *args,
    ]  # fmt: skip
    if tcp:
        command += ["-t", "t1"]
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    errors = "".join(p.read_text(errors="replace") for p in cwd.glob("*_errors.log"))
    return proc.returncode or 0, out.decode(errors="replace")[-3000:] + errors[-3000:]


def user_args(user: str, port: int, password: str | None = None) -> list[str]:
    return ["-s", user, "-au", user, "-ap", password or f"pw-{user}", "-p", str(port), "-m", "1"]


def test_register_refresh_unregister_and_unregister_all(tmp_path: Path) -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            port = free_udp_port()
            args = [*user_args("alice", port), "-key", "expires", "300"]
            for expected in (1, 1):  # register, then refresh from the same Contact
                status, log = await sipp(r, "register_auth.xml", tmp_path, *args)
                assert status == 0, log
                assert r.registrar.count(REALM) == expected
            assert r.kinds() == ["registered", "refreshed"]

            status, log = await sipp(r, "unregister.xml", tmp_path, *user_args("alice", port))
            assert status == 0, log
            assert r.registrar.count() == 0

            status, log = await sipp(r, "register_auth.xml", tmp_path, *args)
            assert status == 0, log
            other = user_args("alice", free_udp_port())
            status, log = await sipp(r, "unregister_all.xml", tmp_path, *other)
            assert status == 0, log
            assert r.registrar.count() == 0
            assert r.kinds()[-1] == "unregistered"

    run(story(), timeout=60)


def test_interval_too_brief_then_registered(tmp_path: Path) -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            args = user_args("alice", free_udp_port())
            status, log = await sipp(r, "register_423.xml", tmp_path, *args)
            assert status == 0, log
            (binding,) = r.registrar.bindings_of(REALM, "alice")
            assert binding.remaining(binding.last_registered) == 300

    run(story())


def test_wrong_password_fails_the_sipp_call(tmp_path: Path) -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            args = [*user_args("alice", free_udp_port(), "wrong"), "-key", "expires", "300"]
            status, _ = await sipp(r, "register_auth.xml", tmp_path, *args, timeout=5)
            assert status != 0  # a second 401 where sipp expects 200
            assert r.registrar.count() == 0
            assert "auth_failed" in r.kinds()

    run(story())


def test_register_over_tcp(tmp_path: Path) -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            args = [*user_args("alice", free_udp_port()), "-key", "expires", "300"]
            status, log = await sipp(r, "register_auth.xml", tmp_path, *args, tcp=True)
            assert status == 0, log
            assert [e.transport for e in r.events] == ["TCP"]

    run(story())


def test_check_sync_notify_answered_by_a_registered_sipp_phone(tmp_path: Path) -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            args = [
                *user_args("alice", free_udp_port()), "-key", "expires", "300",
                "-oocsf", str(SCENARIOS / "uas_notify.xml"), "-d", "1500",
            ]  # fmt: skip
            phone = asyncio.ensure_future(sipp(r, "register_wait_notify.xml", tmp_path, *args))
            await r.wait_for("registered", timeout=10)

            (outcome,) = await r.registrar.notify((REALM, "alice"), "check-sync")
            assert (outcome.result, outcome.code) == (NotifyResult.ANSWERED, 200)

            status, log = await phone
            assert status == 0, log
            assert r.kinds()[-1] == "unregistered"

    run(story(), timeout=40)


def test_two_thousand_distinct_users_register(tmp_path: Path) -> None:
    users = [f"user{i:05d}" for i in range(1, 2001)]
    csv = tmp_path / "users.csv"
    lines = [f"{u};{REALM};[authentication username={u} password=pw-{u}]" for u in users]
    csv.write_text("SEQUENTIAL\n" + "\n".join(lines) + "\n")

    async def story() -> None:
        async with running_registrar(*(device(u) for u in users)) as r:
            args = [
                "-inf", str(csv), "-key", "expires", "3600", "-p", str(free_udp_port()),
                "-r", "1000", "-m", str(len(users)), "-l", "2000",
            ]  # fmt: skip
            status, log = await sipp(r, "register_load.xml", tmp_path, *args, timeout=30)
            assert status == 0, log
            assert r.registrar.count(REALM) == len(users)
            assert r.kinds().count("registered") == len(users)
            assert "auth_failed" not in r.kinds()

    run(story(), timeout=60)
