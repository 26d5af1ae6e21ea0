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
    clock.now += 9.9
    assert memo.get(("k", 1)) == "v"
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
