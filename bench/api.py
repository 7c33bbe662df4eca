"""API benchmark: the simulator against a bare aiohttp JSON handler, measured in one run.

Both servers run in their own process and are driven by the same asyncio client with
concurrent connections, so each rate is reported as a ratio to the baseline's rate (machines
here are noisy; absolute numbers are not comparable between runs).

    python bench/api.py [--devices 10000] [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from support import seed_customer, stop_process

ROOT = Path(__file__).resolve().parents[1]
SLICE_SECONDS = 1.0
# Numbers requests across all scenarios and their warm-ups, so created names never repeat.
REQUEST_NUMBERS = itertools.count()
BASELINE_BODY = {"data": {"id": "0" * 32, "name": "Baseline"}, "status": "success"}


# ---- servers ---------------------------------------------------------------------------------


def run_baseline_server() -> None:
    """A bare aiohttp app answering a fixed JSON document: the ceiling for one process."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(BASELINE_BODY)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/baseline", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def seed_devices(data_dir: Path, count: int) -> None:
    """Fill a fresh store with the master account and one customer holding `count` devices."""
    devices = ((f"Bench phone {i}", f"bench{i:06d}", f"secret{i:06d}x") for i in range(count))
    seed_customer(data_dir, "Bench Co", "bench.kazoodesk.test", "bench-password-1", devices)


def start_process(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"server did not start: {args}")
    return proc, line


# ---- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def drive(
    name: str,
    session: aiohttp.ClientSession,
    make_request: Callable[[aiohttp.ClientSession, int], Awaitable[None]],
    seconds: float,
    concurrency: int,
) -> Result:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            n = next(REQUEST_NUMBERS)
            start = time.perf_counter()
            await make_request(session, n)
            latencies.append((time.perf_counter() - start) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), time.perf_counter() - began, latencies)


async def expect(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    async with response:
        body: dict[str, Any] = await response.json()
        if response.status != status:
            raise SystemExit(f"unexpected {response.status}: {body}")
        return body


async def measure(baseline_url: str, api: str, token: str, account_id: str, args: Any) -> None:
    headers = {"X-Auth-Token": token}
    base = f"{api}/accounts/{account_id}"
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        listing = await expect(
            await session.get(f"{base}/devices?page_size=50", headers=headers), 200
        )
        device_ids = [row["id"] for row in listing["data"]]
        page_keys = [None]
        next_key = listing.get("next_start_key")
        while next_key and len(page_keys) < 50:
            page_keys.append(next_key)
            page = await expect(
                await session.get(
                    f"{base}/devices?page_size=50&start_key={next_key}", headers=headers
                ),
                200,
            )
            next_key = page.get("next_start_key")
        run_id = uuid.uuid4().hex[:8]

        async def baseline(s: aiohttp.ClientSession, n: int) -> None:
            await expect(await s.get(f"{baseline_url}/baseline"), 200)

        async def get_device(s: aiohttp.ClientSession, n: int) -> None:
            device_id = device_ids[n % len(device_ids)]
            await expect(await s.get(f"{base}/devices/{device_id}", headers=headers), 200)

        async def list_page(s: aiohttp.ClientSession, n: int) -> None:
            key = page_keys[n % len(page_keys)]
            query = "page_size=50" + (f"&start_key={key}" if key else "")
            await expect(await s.get(f"{base}/devices?{query}", headers=headers), 200)

        async def create(s: aiohttp.ClientSession, n: int) -> None:
            body = {
                "data": {
                    "name": f"Created {run_id} {n}",
                    "sip": {"username": f"c{run_id}{n}", "password": "created-pass-1"},
                }
            }
            await expect(await s.put(f"{base}/devices", json=body, headers=headers), 201)

        async def patch(s: aiohttp.ClientSession, n: int) -> None:
            device_id = device_ids[n % len(device_ids)]
            body = {"data": {"caller_id": {"internal": {"name": f"Patched {n}"}}}}
            await expect(
                await s.patch(f"{base}/devices/{device_id}", json=body, headers=headers), 200
            )

        scenarios = [
            ("bare aiohttp JSON (baseline)", baseline),
            ("GET device", get_device),
            (f"GET list page (50 of {args.devices})", list_page),
            ("PUT create (durable)", create),
            ("PATCH device (durable)", patch),
        ]
        for name, fn in scenarios:
            await drive(name, session, fn, 0.5, args.concurrency)  # warm-up
        # Round-robin slices rather than one long run each: a load burst from elsewhere on
        # the machine then hits the baseline and the simulator alike, and ratios stay stable.
        results = [Result(name, 0, 0.0, []) for name, _fn in scenarios]
        rounds = max(1, round(args.seconds / SLICE_SECONDS))
        for _round in range(rounds):
            for total, (name, fn) in zip(results, scenarios, strict=True):
                part = await drive(name, session, fn, args.seconds / rounds, args.concurrency)
                total.requests += part.requests
                total.seconds += part.seconds
                total.latencies_ms.extend(part.latencies_ms)
    report(results, args)


def report(results: list[Result], args: Any) -> None:
    baseline = results[0]
    print(
        f"\nconcurrency {args.concurrency}, {args.seconds:.0f} s per scenario"
        f" (in {SLICE_SECONDS:.0f} s slices, round-robin)\n"
    )
    print(f"{'scenario':<36} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results:
        print(
            f"{r.name:<36} {r.rate:>9.0f} {r.rate / baseline.rate:>7.2f}"
            f" {r.percentile(0.5):>8.2f} {r.percentile(0.99):>8.2f}"
        )
    by_name = {r.name.split(" (")[0]: r for r in results}
    get_ratio = by_name["GET device"].rate / baseline.rate
    list_p99 = results[2].percentile(0.99)
    creates = by_name["PUT create"].rate
    print("\ntargets:")
    print(
        f"  GET device >= 0.5 of baseline: {get_ratio:.2f} {'ok' if get_ratio >= 0.5 else 'MISSED'}"
    )
    print(f"  list page p99 <= 20 ms:        {list_p99:.2f} {'ok' if list_p99 <= 20 else 'MISSED'}")
    print(f"  durable creates >= 500/s:      {creates:.0f} {'ok' if creates >= 500 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--baseline-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline_server()
        return
    with tempfile.TemporaryDirectory(prefix="kazoodesk-bench-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        seed_devices(data_dir, args.devices)
        print(f"seeded {args.devices} devices in {time.perf_counter() - started:.1f} s")
        server, line = start_process(
            [sys.executable, "-m", "kazoodesk", "serve", "--port", "0", "--data", str(data_dir)]
        )
        baseline, baseline_line = start_process([sys.executable, __file__, "--baseline-server"])
        try:
            ready = json.loads(line.removeprefix("KAZOODESK READY "))
            api, token, account_id = asyncio.run(login(ready))
            asyncio.run(measure(baseline_line.split()[1], api, token, account_id, args))
        finally:
            stop_process(server)
            stop_process(baseline)


async def login(ready: dict[str, Any]) -> tuple[str, str, str]:
    creds = hashlib.md5(b"admin:bench-password-1").hexdigest()
    async with aiohttp.ClientSession() as session:
        body = await expect(
            await session.put(
                f"{ready['api']}/user_auth",
                json={"data": {"credentials": creds, "account_name": "Bench Co"}},
            ),
            201,
        )
    return ready["api"], body["auth_token"], body["data"]["account_id"]


if __name__ == "__main__":
    main()
