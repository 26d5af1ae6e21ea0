"""The plumbing of bench/suite.py: wrk runs against a server, ceilings, rows, profiles."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import report
from bench.harness import (
    SECRET,
    LoadResult,
    Request,
    Server,
    cpu_seconds,
    run_wrk,
    wait_idle,
    write_requests,
)
from bench.profiling import Profiler
from bench.scenarios import DESCRIPTIONS, GETS


class Runner:
    """Servers, wrk runs, ceilings and rows: what every scenario of the suite shares."""

    def __init__(self, args: argparse.Namespace, wrk: str, workdir: Path) -> None:
        self.args = args
        self.wrk = wrk
        self.workdir = workdir
        self.rows: list[dict[str, Any]] = []
        self.ceilings: dict[int, LoadResult] = {}
        self.ceiling: Server | None = None
        self.memory: dict[str, Any] | None = None
        self.scaling: dict[str, Any] | None = None
        self.server_memory: dict[str, Any] = {}
        self.scaling_main: dict[str, Any] | None = None
        self.profiles: dict[str, list[dict[str, Any]]] = {}
        setting = report.cache_setting(args.response_cache_bytes)
        self.cache_on = bool(setting["supported_by_code"] and setting["bytes"])
        self.runs = 0

    # -- plumbing --

    def wants(self, name: str) -> bool:
        return not self.args.only or name in self.args.only

    def server_env(self, url: str) -> dict[str, str]:
        env = {
            "INQUICKER_ENV": "production",
            "INQUICKER_DATABASE_URL": url,
            "INQUICKER_SECRET_KEY": SECRET,
            # Load tools measure the server, not the per-key rate limit.
            "INQUICKER_RATE_LIMIT": "",
            "INQUICKER_ACCESS_LOG": "false",
            "INQUICKER_LOG_LEVEL": "WARNING",
            # One key issues every token of the visit-token scenario.
            "INQUICKER_MAX_HOLDS_PER_KEY": "1000000",
        }
        if self.args.response_cache_bytes is not None:
            env["INQUICKER_RESPONSE_CACHE_BYTES"] = str(self.args.response_cache_bytes)
        return env

    def requests_file(self, requests: list[Request]) -> Path:
        self.runs += 1
        return write_requests(self.workdir / f"requests-{self.runs}.txt", requests)

    def load(
        self,
        server: Server,
        requests: list[Request],
        *,
        seconds: float,
        connections: int | None = None,
        distinct: bool = False,
        limit: int = 0,
    ) -> LoadResult:
        path = self.requests_file(requests)
        pid = server.worker_pid()
        cpu_before = cpu_seconds(pid)
        result = run_wrk(
            self.wrk,
            server.base,
            path,
            seconds=seconds,
            connections=connections or self.args.connections,
            nonce=f"r{self.runs}" if distinct else None,
            limit=limit,
        )
        waited = wait_idle(pid)
        if waited > 1:
            print(f"  (the server finished abandoned requests for {waited:.1f} s)", flush=True)
        used = cpu_seconds(pid) - cpu_before
        per_request = round(used * 1000 / result.requests, 3) if result.requests else None
        return replace(result, server_cpu_ms=per_request)

    def ceiling_for(self, size: int) -> LoadResult:
        if size not in self.ceilings:
            assert self.ceiling is not None
            request = [Request("GET", f"/bytes/{size}")]
            seconds = self.args.ceiling_seconds
            self.ceilings[size] = self.load(self.ceiling, request, seconds=seconds)
        return self.ceilings[size]

    def record(
        self, scenario: str, urls: str, result: LoadResult, body: int, path: str
    ) -> dict[str, Any]:
        ceiling = self.ceiling_for(body)
        cache = "-"  # availability and booking are never cached
        if scenario in report.CATALOG:
            cache = "hit" if urls == "same" and self.cache_on else "miss"
        row = {
            "scenario": scenario,
            "urls": urls,
            "cache": cache,
            "description": DESCRIPTIONS[scenario],
            "path": path,
            "connections": self.args.connections,
            "body_bytes": body,
            "ceiling_rps": ceiling.rps,
            "ceiling_p99_ms": ceiling.p99_ms,
            "ratio": round(result.rps / ceiling.rps, 3) if ceiling.rps else None,
            **result.as_dict(),
        }
        self.rows.append(row)
        print(
            f"  {scenario:<19} {urls:<8} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms"
            f"  p99 {result.p99_ms:7.2f} ms  {body:>7} B  ceiling {ceiling.rps:>7,.0f}"
            f"  server CPU {result.server_cpu_ms or 0:.2f} ms/req"
            f"  errors {result.errors}{'  (list used up)' if result.exhausted else ''}",
            flush=True,
        )
        return row

    def measured(
        self,
        server: Server,
        scenario: str,
        requests: list[Request],
        *,
        distinct: bool = False,
        limit: int = 0,
    ) -> LoadResult:
        """A scenario's timed run, under py-spy when --profile names it."""
        name = f"{scenario}/same" if scenario in GETS and not distinct else scenario
        if name not in self.args.profile:
            return self.load(
                server, requests, seconds=self.args.seconds, distinct=distinct, limit=limit
            )
        output = self.workdir / f"profile-{scenario}{'-same' if name != scenario else ''}.txt"
        profiler = Profiler(server.worker_pid(), output)
        with profiler:
            result = self.load(
                server, requests, seconds=self.args.seconds, distinct=distinct, limit=limit
            )
        hot = profiler.summary()
        self.profiles[name] = [{"inclusive": i, "self": o, "function": f} for i, o, f in hot]
        which = " distinct" if distinct else (" same" if name != scenario else "")
        print(f"  profile of {scenario}{which} (samples holding the GIL; inclusive %, self %):")
        for inclusive, own, function in hot:
            print(f"    {inclusive:5.1f} {own:5.1f}  {function}")
        return result
