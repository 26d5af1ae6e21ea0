"""The bounded, expiring memo."""

from __future__ import annotations

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
