"""The bounded, expiring memo."""

from __future__ import annotations

import contextlib
import threading

from inquicker.memo import Memo


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_goes_first() -> None:
    memo = Memo(max_entries=2, ttl=60)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recent
    memo.put("c", 3)
    assert memo.get("b") is None
    assert memo.get("a") == 1
    assert memo.get("c") == 3
    assert len(memo) == 2


def test_entries_expire() -> None:
    clock = FakeClock()
    memo = Memo(ttl=10, clock=clock)
    memo.put(("k", 1), "v")
    clock.now += 6.9
    assert memo.get(("k", 1)) == "v"
    clock.now += 3.0  # the last 3 s: the first caller is sent to rebuild it, not the rest
    assert memo.get(("k", 1)) is None
    assert memo.get(("k", 1)) == "v"
    assert memo.peek(("k", 1)) == "v"
    clock.now += 0.2
    assert memo.get(("k", 1)) is None
    assert len(memo) == 0


def test_once_builds_a_value_once_for_concurrent_callers() -> None:
    memo = Memo(ttl=60)
    started = threading.Event()
    release = threading.Event()
    builds: list[int] = []

    def build() -> str:
        builds.append(1)
        started.set()
        release.wait(5)  # the others arrive while this one builds
        return "value"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(memo.once("k", build)))]
    threads[0].start()
    assert started.wait(5)
    threads += [
        threading.Thread(target=lambda: results.append(memo.once("k", build))) for _ in range(4)
    ]
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["value"] * 5
    assert builds == [1]
    assert memo.once("k", build) == "value"  # kept; no build


def test_once_builds_again_after_a_failed_build() -> None:
    memo = Memo(ttl=60)

    def failing() -> str:
        raise RuntimeError("database went away")

    with contextlib.suppress(RuntimeError):
        memo.once("k", failing)
    assert memo.once("k", lambda: "value") == "value"


def test_near_its_end_one_caller_rebuilds_while_the_others_keep_the_value() -> None:
    """The p99 of the provider search was every request queueing behind the rebuild of its
    table each time it lapsed (issue 15): now they are answered with the live value."""
    clock = FakeClock()
    memo = Memo(ttl=10, clock=clock)
    memo.put("table", "old")
    clock.now += 8  # inside the last 3 s
    started = threading.Event()
    release = threading.Event()

    def rebuild() -> str:
        started.set()
        release.wait(5)
        return "new"

    rebuilt: list[str] = []
    builder = threading.Thread(target=lambda: rebuilt.append(memo.once("table", rebuild)))
    builder.start()
    assert started.wait(5)
    # While it builds, others are not kept waiting: they get the live value at once.
    assert memo.once("table", lambda: "never built") == "old"
    assert memo.once("table", lambda: "never built") == "old"
    release.set()
    builder.join(5)
    assert rebuilt == ["new"]
    assert memo.once("table", lambda: "never built") == "new"
    clock.now += 9.9  # the new value's own life, not the old one's
    assert memo.peek("table") == "new"
