"""CPU per request of the request pipeline, in process (no network, no load tool).

    .venv/bin/python bench/bench_pipeline.py [--requests 2000] [--database /tmp/pipe.db]
        [--only providers-near,schedule,insurance-plans] [--profile out.prof]

Builds the suite's data set (bench/dataset.py; kept in --database between runs), then drives
the ASGI app of ``create_app`` directly (the full middleware stack, the threadpool hand-off)
with distinct URLs (``_=<n>``, as wrk_requests.lua does), one request at a time after a warm
up, and prints the process CPU time per request. Less noisy than ``bench/suite.py`` on a
shared machine (no wrk, no sockets), so it is the signal for small changes to the pipeline;
the suite stays the measure of record.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dataset
from bench.generate import HOSTNAME
from bench.harness import SECRET
from bench.scenarios import get_paths
from inquicker.app import create_app
from inquicker.settings import Settings

SCENARIOS = ("providers-near", "schedule", "insurance-plans")


def _scope(path: str, key: str) -> dict[str, Any]:
    raw, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw,
        "raw_path": raw.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Token {key}".encode()),
            (b"accept", b"*/*"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _one(app: Any, scope: dict[str, Any]) -> tuple[int, int]:
    status = 0
    size = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


async def _run(app: Any, paths: dict[str, str], key: str, args: argparse.Namespace) -> None:
    # Lifespan: sets the threadpool's size as a server would.
    async with app.router.lifespan_context(app):
        for name, path in paths.items():
            sep = "&" if "?" in path else "?"
            status, size = await _one(app, _scope(path, key))
            assert status == 200, (name, status)
            for n in range(args.warmup):
                await _one(app, _scope(f"{path}{sep}_=w{n}", key))
            scopes = [_scope(f"{path}{sep}_=m{n}", key) for n in range(args.requests)]
            profile = cProfile.Profile() if args.profile else None
            started, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            for scope in scopes:
                await _one(app, scope)
            if profile:
                profile.disable()
                profile.dump_stats(f"{args.profile}.{name}")
            cpu = (time.process_time() - started) * 1000 / args.requests
            wall = (time.perf_counter() - wall) * 1000 / args.requests
            same = [_scope(path, key) for _ in range(args.requests)]
            hit_started = time.process_time()
            for scope in same:
                await _one(app, scope)
            hit = (time.process_time() - hit_started) * 1000 / args.requests
            print(
                f"{name:<16} {size:>7} B  distinct {cpu:.3f} ms CPU/req (wall {wall:.3f})"
                f"  same-URL hit {hit:.3f} ms CPU/req",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--database", default="/tmp/bench_pipeline.db")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    url = f"sqlite:///{args.database}"
    key_file = Path(args.database + ".key")
    if not key_file.exists():
        data = dataset.build(url, 5000, 500, 20000, 0)
        key_file.write_text(f"{data.key}\n{data.schedule_ids[len(data.schedule_ids) // 2]}\n")
    key, schedule = key_file.read_text().split()
    fake = dataset.DataSet(url, key, 5000, 500, 20000, [schedule], [], 0.0)
    paths = {
        n: p for n, p in get_paths(fake).items() if n in args.only.split(",") and n in SCENARIOS
    }
    settings = Settings(
        env="production",
        database_url=url,
        secret_key=SECRET,
        rate_limit="",
        access_log=False,
        log_level="WARNING",
    )
    assert HOSTNAME
    asyncio.run(_run(create_app(settings), paths, key, args))


if __name__ == "__main__":
    main()
