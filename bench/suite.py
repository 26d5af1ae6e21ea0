"""The benchmark suite: one command, one table (issue 6). See docs/performance.md.

    .venv/bin/python bench/suite.py                      # the full run, SQLite in a temp dir
    .venv/bin/python bench/suite.py --providers 200 --schedules 800 --booked-seats 2000 \
        --seconds 2 --only providers-near,visits        # a quick look
    .venv/bin/python bench/suite.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_suite

1. Generates a synthetic health system (bench/generate.py) and imports it through the bundle
   importer; books seats; issues an API key.
2. Starts the API (``uvicorn inquicker.app:app_from_env --workers 1``) pinned to core 0, and
   the ceiling (bench/ceiling.py, a bare Starlette endpoint) the same way.
3. Drives each scenario with ``wrk`` (one thread, pinned to core 1; installed from Debian's
   packages if missing) for --seconds: each catalog GET and availability twice, "same" (one
   URL repeated: what a response cache can serve) and "distinct" (a distinct query string
   per request: nothing URL-keyed can answer); visit tokens and POST /visits over lists of
   distinct slots, one token per booking. Each scenario's ceiling is the bare endpoint
   answering a body of the same size, measured in the same run.
4. A memory phase: --memory-requests requests with distinct URLs over a mix of the GETs,
   the worker's RSS sampled from /proc before, during and after (and VmHWM, the peak).
5. Scaling: provider search at 1,000 and 50,000 providers (separate data sets, each
   imported and served like the main one), latency at one connection.

Prints the table and the targets; writes the same numbers, with machine facts, as JSON.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench import dataset, report  # noqa: E402
from bench.dataset import DataSet  # noqa: E402
from bench.harness import (  # noqa: E402
    Request,
    RssSampler,
    Server,
    create_postgres_database,
    database_variant,
    database_version,
    drop_postgres_database,
    ensure_wrk,
    fetch,
    is_postgres,
    memory_mb,
)
from bench.runner import Runner  # noqa: E402
from bench.scenarios import (  # noqa: E402
    BOOKING_RATE_CAP,
    SCENARIOS,
    get_paths,
    memory_mix,
)


class Suite(Runner):
    """The scenarios, in the order of a run."""

    # -- scenarios --

    def run_gets(self, server: Server, data: DataSet) -> None:
        for name, path in get_paths(data).items():
            if not self.wants(name):
                continue
            request = Request("GET", path, data.auth)
            status, body = fetch(server.base, request)
            if status != 200:
                raise SystemExit(f"{name}: {status} {body[:500]!r}")
            # Distinct URLs carry "_=<n>" (wrk_requests.lua): the API must ignore it.
            probe = path + ("&" if "?" in path else "?") + "_=x"
            status, _ = fetch(server.base, Request("GET", probe, data.auth))
            if status != 200:
                raise SystemExit(f"{name}: the API refused the '_' cache-buster ({status})")
            # Warm the code paths and the pool (distinct URLs: warms no cache entry).
            self.load(server, [request], seconds=self.args.warmup, distinct=True)
            for urls, distinct in (("same", False), ("distinct", True)):
                if not distinct:
                    # One request first: the warm-up's distinct URLs may have evicted it,
                    # and 64 connections missing at once would measure the stampede.
                    fetch(server.base, request)
                result = self.measured(server, name, [request], distinct=distinct)
                self.record(name, urls, result, len(body), path)

    def run_memory(self, server: Server, data: DataSet) -> None:
        pid = server.worker_pid()
        mix = memory_mix(data)
        before = memory_mb(pid)["VmRSS"]
        count = self.args.memory_requests
        print(f"  memory: {count:,} requests with distinct URLs over {len(mix)} paths", flush=True)
        with RssSampler(pid) as sampler:
            result = self.load(server, mix, seconds=3600, distinct=True, limit=count)
        after = memory_mb(pid)
        samples = sampler.samples or [(0.0, before)]
        half = samples[-1][0] / 2
        middle = min(samples, key=lambda s: abs(s[0] - half))[1]
        self.memory = {
            "requests": result.requests,
            "seconds": result.seconds,
            "rps": result.rps,
            "errors": result.errors,
            "idle_mb": self.server_memory.get("idle_mb"),
            "before_mb": before,
            "middle_mb": middle,
            "after_mb": after["VmRSS"],
            "sampled_peak_mb": max(s[1] for s in samples),
            "peak_mb": after["VmHWM"],
            "second_half_growth_mb": round(after["VmRSS"] - middle, 1),
            "samples": len(samples),
        }
        print(
            f"  memory: {result.rps:,.0f} req/s, errors {result.errors}; RSS MB before {before}"
            f", middle {middle}, after {after['VmRSS']}, VmHWM {after['VmHWM']}",
            flush=True,
        )

    def run_booking(self, server: Server, data: DataSet) -> None:
        count = self.args.seconds * BOOKING_RATE_CAP + 1
        half = len(data.bookable_ids) // 2
        pools = {
            "visit-token": data.bookable_ids[:half],
            "visits": data.bookable_ids[half:],
        }
        makers: dict[str, Callable[[list[dataset.Slot]], list[Request]]] = {
            "visit-token": lambda slots: dataset.visit_token_requests(data, slots),
            "visits": lambda slots: dataset.mint_visit_requests(data.url, data, slots),
        }
        for name in ("visit-token", "visits"):
            if not self.wants(name):
                continue
            started = time.perf_counter()
            slots = dataset.booking_slots(data.url, data, pools[name], count)
            requests = makers[name](slots)
            print(
                f"  {name}: {len(requests):,} requests prepared in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            status, body = fetch(server.base, requests[0])
            if status not in (200, 201):
                raise SystemExit(f"{name}: {status} {body[:500]!r}")
            result = self.measured(server, name, requests[1:], limit=len(requests) - 1)
            self.record(name, "one-use", result, len(body), requests[0].path.split("?")[0])
            released = dataset.release_holds(data.url)
            if released:
                print(f"  {name}: released {released:,} unused holds", flush=True)

    def search_latency(self, server: Server, data: DataSet) -> dict[str, Any]:
        """Provider search (page of 50, include=schedules), distinct URLs, one connection."""
        request = [Request("GET", get_paths(data)["providers-near"], data.auth)]
        # One connection for the warm-up too: 64 at 50,000 providers leave a long backlog.
        self.load(server, request, seconds=self.args.warmup, connections=1, distinct=True)
        result = self.load(server, request, seconds=self.args.seconds, connections=1, distinct=True)
        print(
            f"  providers-near distinct, 1 connection, {data.providers:>6,} providers: "
            f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms",
            flush=True,
        )
        return {
            "providers": data.providers,
            "schedules": data.schedules,
            "locations": data.locations,
            "import_seconds": data.import_seconds,
            "connections": 1,
            **result.as_dict(),
        }

    def run_scaling(self) -> None:
        sizes = [self.scaling_main] if self.scaling_main else []
        for providers in self.args.scaling_providers:
            url = database_variant(self.args.url, f"p{providers}")
            if is_postgres(url):
                create_postgres_database(url)
            try:
                print(f"scaling: importing {providers:,} providers ...", flush=True)
                schedules = providers * self.args.per_provider
                data = dataset.build(url, providers, self.args.locations, schedules, 0)
                server = Server(
                    "inquicker.app:app_from_env",
                    self.args.port + 2,
                    self.server_env(url),
                    self.workdir / "scaling-server.log",
                    factory=True,
                ).start()
                try:
                    sizes.append(self.search_latency(server, data))
                finally:
                    server.stop()
            finally:
                if is_postgres(url) and not self.args.keep:
                    drop_postgres_database(url)
        sizes.sort(key=lambda s: int(s["providers"]))
        ends = [s for s in sizes if s["providers"] in self.args.scaling_providers]
        first, last = (ends[0], ends[-1]) if len(ends) > 1 else (sizes[0], sizes[-1])
        self.scaling = {
            "sizes": sizes,
            "compared": [first["providers"], last["providers"]],
            "ratio": round(last["p50_ms"] / first["p50_ms"], 2)
            if len(sizes) > 1 and first["p50_ms"]
            else None,
        }

    # -- the run --

    def main_server(self, data: DataSet) -> None:
        server = Server(
            "inquicker.app:app_from_env",
            self.args.port,
            self.server_env(data.url),
            self.workdir / "server.log",
            factory=True,
        ).start()
        self.ceiling = Server(
            "bench.ceiling:app", self.args.port + 1, {}, self.workdir / "ceiling.log"
        ).start()
        try:
            pid = server.worker_pid()
            self.server_memory["idle_mb"] = memory_mb(pid)["VmRSS"]
            self.load(self.ceiling, [Request("GET", "/bytes/1000")], seconds=self.args.warmup)
            self.run_gets(server, data)
            if self.args.scaling_providers and self.wants("scaling"):
                self.scaling_main = self.search_latency(server, data)
            if self.wants("memory") and self.args.memory_requests:
                self.run_memory(server, data)
            self.run_booking(server, data)
            final = memory_mb(pid)
            self.server_memory.update(
                {"final_mb": final["VmRSS"], "peak_mb": final["VmHWM"], "pid": pid}
            )
            print(f"  API worker RSS now {final['VmRSS']} MB, peak {final['VmHWM']} MB")
        finally:
            server.stop()
            self.ceiling.stop()
        log = (self.workdir / "server.log").read_text()
        if log.strip():
            print(f"server log (last 2000 chars):\n{log[-2000:]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--schedules", type=int, default=20000)
    parser.add_argument("--booked-seats", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=10, help="per scenario and ceiling")
    parser.add_argument("--ceiling-seconds", type=int, default=5, help="per ceiling body size")
    parser.add_argument("--warmup", type=int, default=1, help="seconds before each scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument(
        "--scaling-providers",
        default="1000,50000",
        help="provider counts of the scaling data sets ('' skips scaling)",
    )
    parser.add_argument(
        "--per-provider", type=int, default=4, help="schedules per provider in scaling sets"
    )
    parser.add_argument(
        "--response-cache-bytes",
        type=int,
        default=None,
        help="INQUICKER_RESPONSE_CACHE_BYTES for the servers (default: unset, the server's own)",
    )
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep databases and the work dir")
    parser.add_argument("--port", type=int, default=8961, help="API; +1 ceiling, +2 scaling")
    parser.add_argument(
        "--only", default="", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--profile",
        default="",
        help="py-spy the worker during these scenarios' timed runs (a GET: its distinct run; "
        "GET/same: its same-URL run)",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/latest.json")
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    args.profile = {s.strip() for s in args.profile.split(",") if s.strip()}
    unknown = (args.only | {p.removesuffix("/same") for p in args.profile}) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    args.scaling_providers = [int(p) for p in args.scaling_providers.split(",") if p.strip()]
    return args


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    wrk = ensure_wrk()
    machine = report.machine_facts()
    if machine["load_average_at_start"] > 0.5:
        print(
            f"warning: load average {machine['load_average_at_start']} at start: other work "
            "on this machine will lower and blur the numbers",
            flush=True,
        )
    workdir = Path(tempfile.mkdtemp(prefix="bench-suite-"))
    args.url = args.database_url or f"sqlite:///{workdir}/suite.db"
    suite = Suite(args, wrk, workdir)
    data: DataSet | None = None
    main_wanted = not args.only or bool(args.only - {"scaling"})
    created = False
    try:
        if main_wanted:
            if is_postgres(args.url):
                create_postgres_database(args.url)
                created = True
            print(
                f"data: {args.providers:,} providers, {args.locations:,} locations, "
                f"{args.schedules:,} schedules, {args.booked_seats:,} booked seats ...",
                flush=True,
            )
            data = dataset.build(
                args.url, args.providers, args.locations, args.schedules, args.booked_seats
            )
            print(
                f"  imported in {data.import_seconds} s; {data.booked_seats:,} seats booked in "
                f"{data.seats_seconds} s",
                flush=True,
            )
            suite.main_server(data)
        if args.scaling_providers and suite.wants("scaling"):
            suite.run_scaling()
    finally:
        if created and not args.keep:
            drop_postgres_database(args.url)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    targets = report.evaluate(
        suite.rows,
        suite.memory,
        suite.scaling,
        args.connections,
        args.providers,
        suite.server_memory,
    )
    result = {
        "command": " ".join([".venv/bin/python", "bench/suite.py", *sys.argv[1:]]),
        "seconds_total": round(time.perf_counter() - began),
        "machine": {**machine, "load_average_at_end": round(os.getloadavg()[0], 2)},
        "code": report.git_state(),
        "database": database_version(args.url),
        "response_cache": report.cache_setting(args.response_cache_bytes),
        "dataset": (
            {
                "providers": data.providers,
                "locations": data.locations,
                "schedules": data.schedules,
                "booked_seats": data.booked_seats,
                "import_seconds": data.import_seconds,
            }
            if data
            else None
        ),
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "server": "uvicorn, 1 worker pinned to core 0; wrk -t1 pinned to core 1",
        },
        "results": suite.rows,
        "memory": suite.memory,
        "server_memory": suite.server_memory,
        "scaling": suite.scaling,
        "profiles": suite.profiles,
        "targets": targets,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    report.print_summary(result)
    print(f"\nwrote {args.json} ({result['seconds_total']} s in all)")


if __name__ == "__main__":
    main()
