"""SIP registrar benchmark: `kazoodesk serve`'s registrar against Kamailio 5.6.3, one run.

sipp's `register_load.xml` (one call = REGISTER -> 401 -> REGISTER with digest -> 200, a
distinct user per call from an injection file) is offered at rising rates to each registrar;
a step is clean with 0 failed calls and < 0.5 % retransmissions. The ladder stops at the first
unclean or saturated step; the result is the highest rate actually completed (calls/s over sipp's
run time) in a clean step. Prints that rate for each, their ratio, the CPU each server and sipp
spent per registration, and the simulator's RSS with its live binding count (from
`GET /v2/accounts/{A}/registrations/count`).

The simulator runs as `kazoodesk serve --sip-front` (its SIP front process answers the
challenges on the second core, as Kamailio's config runs two UDP workers); `--one-process`
measures the registrar alone.

    python bench/registrar.py [--users 100000] [--seconds 4] [--rates 1000,2000,...]

Needs sipp (`apt-get install -y sip-tester`); Kamailio (`apt-get install -y kamailio`) is
optional: without it only the simulator is measured. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from support import seed_customer, stop_process

ROOT = Path(__file__).resolve().parents[1]
SHARED_SIPP = ROOT.parent / "shared" / "sipp"
REALM = "sim.local"
ACCOUNT = "SIP Bench Co"
ADMIN_PASSWORD = "bench-password-1"
DEFAULT_RATES = ",".join(
    str(r) for r in [*range(1000, 12001, 1000), 14000, 16000, 18000, 20000, 24000]
)
RETRANS_LIMIT_PCT = 0.5
SETTLE_S = 3.0  # after the fill, before RSS is read
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def username(i: int) -> str:
    return f"user{i:06d}"


# ---- set-up ----------------------------------------------------------------------------------


def seed_devices(data_dir: Path, count: int) -> None:
    """A fresh store: the demo master account plus one account (realm sim.local) with `count`
    devices userNNNNNN / pw-userNNNNNN (the password rule of kamailio-registrar.cfg)."""
    devices = (
        (f"SIP bench phone {i}", username(i), f"pw-{username(i)}") for i in range(1, count + 1)
    )
    seed_customer(data_dir, ACCOUNT, REALM, ADMIN_PASSWORD, devices)


def write_users(path: Path, count: int) -> None:
    """sipp injection file (same format as ../shared/sipp/gen_users.py)."""
    with path.open("w") as out:
        out.write("SEQUENTIAL\n")
        for i in range(1, count + 1):
            u = username(i)
            out.write(f"{u};{REALM};[authentication username={u} password=pw-{u}]\n")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def family_stats(pid: int) -> list[list[str]]:
    """The /proc stat fields (those after the command name) of process `pid` and of its direct
    children: the SIP front process, Kamailio's workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent id
            found.append(fields)
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` and its direct children."""
    pages = sum(int(fields[21]) for fields in family_stats(pid))  # rss
    return pages * PAGE_SIZE / 2**20


def start_kamailio(work: Path, port: int) -> subprocess.Popen[bytes] | str:
    """Kamailio with a temp copy of kamailio-registrar.cfg on `port`; an error text if not."""
    binary = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/sbin")
    if binary is None:
        return "kamailio not installed (apt-get install -y --no-install-recommends kamailio)"
    source = SHARED_SIPP / "kamailio-registrar.cfg"
    if not source.exists():
        return f"{source} not found"
    cfg = source.read_text().replace("listen=udp:127.0.0.1:5070", f"listen=udp:127.0.0.1:{port}")
    cfg = cfg.replace("debug=2", "debug=1")  # keep per-request INFO logging out of the figures
    path = work / "kamailio.cfg"
    path.write_text(cfg)
    log = (work / "kamailio.log").open("wb")
    # -m 256: 64 MB of shared memory (the README's line) is too small for 100k+ bindings.
    proc = subprocess.Popen(
        [binary, "-f", str(path), "-DD", "-E", "-m", "256", "-M", "8", "-Y", str(work)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    if not wait_options(port, 10.0) or proc.poll() is not None:
        stop_process(proc)
        tail = (work / "kamailio.log").read_text(errors="replace").strip().splitlines()[-5:]
        return "kamailio did not start: " + " | ".join(tail)
    return proc


def wait_options(port: int, timeout: float) -> bool:
    """Poll with SIP OPTIONS until a 200 comes back."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        lport = s.getsockname()[1]
        while time.monotonic() < deadline:
            branch = uuid.uuid4().hex
            msg = (
                f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:bench@127.0.0.1>;tag={branch[:8]}\r\n"
                f"To: <sip:127.0.0.1:{port}>\r\n"
                f"Call-ID: {branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            s.sendto(msg.encode(), ("127.0.0.1", port))
            try:
                data = s.recv(65535)
                if data.startswith(b"SIP/2.0 200"):
                    return True
            except OSError:
                pass
            time.sleep(0.1)
    return False


# ---- load ------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` and its direct children."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in family_stats(pid))  # utime, stime
    return ticks / CLOCK_TICKS


def run_sipp(
    port: int, users: Path, rate: int, calls: int, work: Path, server_pid: int = 0
) -> dict[str, float]:
    """One sipp run; with `server_pid`, also the CPU the server and sipp spent per
    registration (a figure the machine's other load barely moves, unlike rates)."""
    stats = work / f"stat_{port}_{rate}.csv"
    stats.unlink(missing_ok=True)
    limit = calls // rate + 30
    command = [
        "sipp", f"127.0.0.1:{port}", "-sf", str(SHARED_SIPP / "register_load.xml"),
        "-inf", str(users), "-key", "expires", "3600", "-i", "127.0.0.1",
        "-r", str(rate), "-m", str(calls), "-l", str(max(rate * 2, 2000)),
        "-nostdin", "-trace_stat", "-stf", str(stats), "-fd", "1", "-timeout", f"{limit}s",
        "-timeout_error",
    ]  # fmt: skip
    server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
    sipp_cpu = children_cpu()
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=work, capture_output=True, timeout=limit + 20)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = -1
    wall = time.monotonic() - started
    sipp_cpu = children_cpu() - sipp_cpu
    server_cpu = cpu_seconds(server_pid) - server_cpu if server_pid else 0.0
    result = {"rate": rate, "ok": 0.0, "failed": float(calls), "retrans": 0.0, "rc": rc}
    result["wall"] = wall
    if stats.exists():
        with stats.open() as f:
            rows = list(csv.reader(f, delimiter=";"))
        if len(rows) >= 2:
            head, last = rows[0], rows[-1]

            def col(name: str) -> float:
                return float(last[head.index(name)] or 0)

            result.update(
                ok=col("SuccessfulCall(C)"),
                failed=col("FailedCall(C)"),
                retrans=col("Retransmissions(C)"),
            )
    sent = max(1.0, 2 * (result["ok"] + result["failed"]))  # two REGISTERs per call
    result["retrans_pct"] = 100 * result["retrans"] / sent
    # achieved = completed calls over sipp's own wall time (includes the tail of the last calls)
    result["achieved"] = result["ok"] / max(wall, 1e-9)
    done = max(1.0, result["ok"])
    result["server_us"] = 1e6 * server_cpu / done
    result["sipp_us"] = 1e6 * sipp_cpu / done
    result["clean"] = float(
        result["failed"] == 0 and result["retrans_pct"] < RETRANS_LIMIT_PCT and rc == 0
    )
    return result


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ladder(
    name: str, port: int, pid: int, users: Path, rates: list[int], args: Any, work: Path
) -> tuple[int, float]:
    """The highest clean rate, and the server's CPU per registration at that step."""
    load = os.getloadavg()[0]
    print(f"\n{name} (udp:127.0.0.1:{port}), {args.seconds:.0f} s per step, load {load:.2f}")
    print(
        f"{'offered/s':>10} {'achieved/s':>11} {'ok':>8} {'failed':>7} {'retrans':>14}  clean"
        "  CPU us/reg: server  sipp"
    )
    best, best_cpu = 0, 0.0
    started = time.monotonic()
    for rate in rates:
        r = run_sipp(port, users, rate, int(rate * args.seconds), work, pid)
        clean = bool(r["clean"])
        print(
            f"{rate:>10} {r['achieved']:>11.0f} {r['ok']:>8.0f} {r['failed']:>7.0f}"
            f" {r['retrans']:>6.0f} ({r['retrans_pct']:.2f} %)  {'yes' if clean else 'NO ':<5}"
            f" {r['server_us']:>18.0f} {r['sipp_us']:>5.0f}"
            + ("" if r["rc"] in (0, 1) else f" (sipp rc {r['rc']:.0f})"),
            flush=True,
        )
        if not clean:
            break
        if round(r["achieved"]) > best:
            best, best_cpu = round(r["achieved"]), r["server_us"]
        if r["achieved"] < 0.9 * rate:
            print("  (saturated: under 90 % of the offered rate completed in time)")
            break
        if time.monotonic() - started > args.budget:
            print(f"  (time budget {args.budget:.0f} s reached)")
            break
    else:
        print(f"  (top of the ladder reached: {name} may sustain more)")
    print(
        f"{name}: highest sustained clean rate {best} authenticated registrations/s"
        f" ({best_cpu:.0f} us of its CPU per registration there)"
    )
    print(f"  (1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after:")
    print(f"   above ~1 sipp and {name} share the {os.cpu_count()} CPUs with something else)")
    return best, best_cpu


async def login_and_count(api: str) -> tuple[str, str, int]:
    creds = hashlib.md5(f"admin:{ADMIN_PASSWORD}".encode()).hexdigest()
    async with aiohttp.ClientSession() as session:
        async with session.put(
            f"{api}/user_auth", json={"data": {"credentials": creds, "account_name": ACCOUNT}}
        ) as response:
            body = await response.json()
            if response.status != 201:
                raise SystemExit(f"login failed: {response.status} {body}")
        token, account_id = body["auth_token"], body["data"]["account_id"]
        count = await registration_count(session, api, token, account_id)
    return token, account_id, count


async def registration_count(
    session: aiohttp.ClientSession, api: str, token: str, account_id: str
) -> int:
    async with session.get(
        f"{api}/accounts/{account_id}/registrations/count", headers={"X-Auth-Token": token}
    ) as response:
        body = await response.json()
        return int(body["data"]["count"])


# ---- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000, help="devices seeded = sipp users")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each rate step")
    parser.add_argument("--rates", default=DEFAULT_RATES)
    parser.add_argument(
        "--one-process",
        dest="front",
        action="store_false",
        help="without `serve --sip-front` (the registrar alone on one core)",
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per ladder, about")
    args = parser.parse_args()
    if shutil.which("sipp") is None:
        raise SystemExit("sipp not found: apt-get install -y sip-tester")
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="kazoodesk-sipbench-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        seed_devices(data_dir, args.users)
        users = work / "users.csv"
        write_users(users, args.users)
        print(
            f"seeded {args.users} devices (realm {REALM}) in {time.perf_counter() - started:.1f} s"
        )

        server = subprocess.Popen(
            [sys.executable, "-m", "kazoodesk", "serve", "--port", "0", "--ws-port", "0",
             "--sip-port", "0", "--data", str(data_dir), *(["--sip-front"] * args.front)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        ours, our_cpu = 0, 0.0
        bindings = -1
        rss = 0.0
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line.startswith("KAZOODESK READY "):
                raise SystemExit(f"kazoodesk serve did not start: {line!r}")
            ready = json.loads(line.removeprefix("KAZOODESK READY "))
            sip_port = int(ready["sip"].rsplit(":", 1)[1])
            token, account_id, _ = asyncio.run(login_and_count(ready["api"]))
            print(f"kazoodesk serve: RSS {rss_mb(server.pid):.0f} MB before load")
            ours, our_cpu = ladder(
                "kazoodesk registrar", sip_port, server.pid, users, rates, args, work
            )
            _, _, bindings = asyncio.run(login_and_count(ready["api"]))
            print(f"after the ladder: {bindings} live bindings, RSS {rss_mb(server.pid):.0f} MB")
            # Top up to one binding per user (sipp's SEQUENTIAL file wraps, so a ladder
            # may have covered only part of it), then read count and RSS.
            if bindings < args.users:
                fill_rate = max(2000, int(ours * 0.8))
                fill = run_sipp(sip_port, users, fill_rate, args.users, work)
                print(f"fill: {fill['ok']:.0f} registrations ok, {fill['failed']:.0f} failed")
                print(f"  RSS {rss_mb(server.pid):.0f} MB as the fill ends")
            # Steady state: the registrar hands freed heap back within a second or two of the
            # last change. RSS is read before the count, as the account-level count endpoint
            # builds every registration row (a transient ~100 MB at 100,000 bindings).
            time.sleep(SETTLE_S)
            rss = rss_mb(server.pid)
            _, _, bindings = asyncio.run(login_and_count(ready["api"]))
            print(
                f"kazoodesk serve: {bindings} live bindings, RSS {rss:.0f} MB settled"
                f" ({rss_mb(server.pid):.0f} MB after the count request)"
            )
        finally:
            stop_process(server)

        kamailio_port = free_udp_port()
        kam = start_kamailio(work, kamailio_port)
        theirs, their_cpu = 0, 0.0
        if isinstance(kam, str):
            print(f"\nKamailio not measured: {kam}")
        else:
            try:
                theirs, their_cpu = ladder(
                    "Kamailio 5.6.3", kamailio_port, kam.pid, users, rates, args, work
                )
            finally:
                stop_process(kam)

    print("\nresults (targets from issue 4 section 8):")
    ok5000 = "ok" if ours >= 5000 else "MISSED"
    print(f"  kazoodesk clean rate >= 5,000 reg/s:      {ours} {ok5000}")
    if theirs:
        ratio = ours / theirs
        print(f"  Kamailio clean rate:                      {theirs}")
        print(
            f"  ratio ours/Kamailio >= 0.6:               {ratio:.2f}"
            f" {'ok' if ratio >= 0.6 else 'MISSED'}"
        )
        print(
            f"  CPU per registration, ours/Kamailio:      {our_cpu:.0f} / {their_cpu:.0f} us"
            f" = {our_cpu / max(their_cpu, 1e-9):.1f}x"
        )
    else:
        print("  ratio ours/Kamailio >= 0.6:               not measured (no Kamailio)")
    if bindings >= 100_000:
        verdict = "ok" if rss <= 300 else "MISSED"
    else:
        verdict = f"not reached ({bindings} bindings)"
    print(f"  100,000 bindings <= 300 MB RSS:           {rss:.0f} MB {verdict}")


if __name__ == "__main__":
    main()
