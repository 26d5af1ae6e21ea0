"""The tables, the targets and the machine facts of bench/suite.py."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import ROOT

CATALOG = ("providers-near", "location-schedules", "schedule", "insurance-plans")

# (name, description): evaluated by evaluate() from the results.
TARGETS = {
    "cached-ratio": "cached catalog GETs (same URL) >= 50% of the ceiling",
    "search-uncached": "uncached provider search, page of 50, include=schedules >= 1,500 req/s",
    "catalog-p99": "p99 of every catalog GET < 20 ms at {connections} connections",
    "search-scaling": "provider search p50 latency, {last:,} vs {first:,} providers < 1.5x",
    "rss-peak": "one worker, {providers:,}-provider data set: peak RSS < 250 MB",
    "rss-growth": "RSS does not grow over {requests:,} distinct-URL requests (2nd half < +5 MB)",
}


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    head = (
        "| scenario | URLs | cache | req/s | p50 ms | p99 ms | body bytes | ceiling req/s "
        "| ratio | server CPU ms/req | errors |\n|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    lines = []
    for r in rows:
        ratio = f"{100 * r['ratio']:.0f}%" if r.get("ratio") is not None else "-"
        note = " (list used up)" if r.get("exhausted") else ""
        lines.append(
            f"| {r['scenario']} | {r['urls']} | {r['cache']} | {_num(r['rps'], 0)}{note} | "
            f"{_num(r['p50_ms'], 2)} | {_num(r['p99_ms'], 2)} | {r.get('body_bytes') or '-'} | "
            f"{_num(r.get('ceiling_rps'), 0)} | {ratio} | {_num(r.get('server_cpu_ms'), 2)} | "
            f"{r['errors']} |"
        )
    return head + "\n".join(lines)


def evaluate(
    rows: list[dict[str, Any]],
    memory: dict[str, Any] | None,
    scaling: dict[str, Any] | None,
    connections: int,
    providers: int,
    server_memory: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each target with the value measured and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []

    first, last = (scaling or {}).get("compared") or (1000, 50000)

    def add(key: str, value: str, met: bool | None) -> None:
        text = TARGETS[key].format(
            connections=connections,
            first=first,
            last=last,
            providers=providers,
            requests=(memory or {}).get("requests", 0),
        )
        out.append({"target": key, "description": text, "measured": value, "met": met})

    cached = [r for r in rows if r["scenario"] in CATALOG and r["urls"] == "same"]
    if cached:
        worst = min(cached, key=lambda r: r["ratio"] or 0)
        add(
            "cached-ratio",
            f"lowest {100 * (worst['ratio'] or 0):.0f}% ({worst['scenario']})",
            all((r["ratio"] or 0) >= 0.5 for r in cached),
        )
    search = [r for r in rows if r["scenario"] == "providers-near" and r["urls"] == "distinct"]
    if search:
        add("search-uncached", f"{search[0]['rps']:,.0f} req/s", search[0]["rps"] >= 1500)
    catalog = [r for r in rows if r["scenario"] in CATALOG]
    if catalog:
        worst = max(catalog, key=lambda r: r["p99_ms"])
        add(
            "catalog-p99",
            f"highest {worst['p99_ms']:.1f} ms ({worst['scenario']}, {worst['urls']} URLs)",
            worst["p99_ms"] < 20,
        )
    if scaling and scaling.get("ratio") is not None:
        add("search-scaling", f"{scaling['ratio']:.2f}x", scaling["ratio"] < 1.5)
    peak = (server_memory or {}).get("peak_mb")
    if peak is not None:
        add("rss-peak", f"{peak:.0f} MB (VmHWM, whole run)", peak < 250)
    if memory and memory.get("second_half_growth_mb") is not None:
        growth = memory["second_half_growth_mb"]
        add("rss-growth", f"{growth:+.1f} MB in the 2nd half", growth < 5)
    return out


def targets_table(results: list[dict[str, Any]]) -> str:
    mark = {True: "yes", False: "**no**", None: "-"}
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['description']} | {t['measured']} | {mark[t['met']]} |" for t in results]
    return "\n".join(lines)


def memory_table(memory: dict[str, Any]) -> str:
    return (
        "| worker RSS, MB | idle after start | before the phase | middle | after | "
        "sampled peak | VmHWM |\n|---|--:|--:|--:|--:|--:|--:|\n"
        f"| {memory['requests']:,} requests, distinct URLs ({memory['rps']:,.0f} req/s) | "
        f"{memory['idle_mb']} | {memory['before_mb']} | {memory['middle_mb']} | "
        f"{memory['after_mb']} | {memory['sampled_peak_mb']} | {memory['peak_mb']} |"
    )


def scaling_table(scaling: dict[str, Any]) -> str:
    lines = [
        "| providers | schedules | import s | req/s | p50 ms | p99 ms | errors |",
        "|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in scaling["sizes"]:
        lines.append(
            f"| {s['providers']:,} | {s['schedules']:,} | {s['import_seconds']} | "
            f"{s['rps']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['errors']} |"
        )
    return "\n".join(lines)


def cache_setting(env_value: int | None) -> dict[str, Any]:
    """Whether the code has a response cache, and its size for the servers of the run."""
    from inquicker.settings import Settings

    supported = "response_cache_bytes" in Settings.model_fields
    value = env_value
    if value is None and supported:
        value = Settings.model_fields["response_cache_bytes"].default
    return {
        "supported_by_code": supported,
        "env_set": env_value is not None,
        "bytes": value,
    }


def print_summary(result: dict[str, Any]) -> None:
    m, cache = result["machine"], result["response_cache"]
    print(
        f"\n{m['date']}  {m['nproc']} x {m['cpu_model']}  Python {m['python']}  "
        f"{result['database'] or ''}  commit {result['code']['commit']}"
        f"{' + uncommitted src changes' if result['code']['src_changes_uncommitted'] else ''}"
        f"\nresponse cache: "
        + (
            f"{cache['bytes']} bytes{' (env)' if cache['env_set'] else ' (default)'}"
            if cache["supported_by_code"]
            else "not in this code"
        )
        + f"; load average {m['load_average_at_start']} at start, "
        f"{m['load_average_at_end']} at end\n"
    )
    if result["results"]:
        print(table(result["results"]))
    if result["memory"]:
        print()
        print(memory_table(result["memory"]))
    if result["scaling"]:
        print()
        print(scaling_table(result["scaling"]))
    if result["targets"]:
        print()
        print(targets_table(result["targets"]))


# --- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    changed = git("status", "--porcelain", "--", "src").splitlines()
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "src_changes_uncommitted": len(changed),
    }


def machine_facts() -> dict[str, Any]:
    from importlib.metadata import version

    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        mem_kb = 0
    wrk_version = subprocess.run(
        [shutil.which("wrk") or "wrk", "--version"], capture_output=True, text=True
    ).stdout.splitlines()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": {
            name: version(name) for name in ("starlette", "uvicorn", "sqlalchemy", "orjson")
        },
        "wrk": wrk_version[0] if wrk_version else "?",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
