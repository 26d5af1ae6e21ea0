"""The one cache primitive: bounds, TTL, generation and early refresh."""

from __future__ import annotations

from inquicker.cache import BoundedCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_goes_first_past_the_bound() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_a_cost_function_bounds_bytes() -> None:
    cache: BoundedCache[str, bytes] = BoundedCache(10, cost=len)
    cache.put("a", b"12345")
    cache.put("b", b"1234")
    assert cache.total_cost == 9
    cache.put("c", b"123")  # 12 > 10: a goes
    assert cache.get("a") is None
    assert cache.total_cost == 7
    cache.put("b", b"1")  # replacing an entry replaces its cost
    assert cache.total_cost == 4


def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache: BoundedCache[str, int] = BoundedCache(10, ttl=5.0, clock=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is None
    assert len(cache) == 0


def test_a_new_generation_makes_entries_stale() -> None:
    generation = [1]
    cache: BoundedCache[str, int] = BoundedCache(10, generation=lambda: generation[0])
    cache.put("a", 1)
    cache.put("b", 2, generation=0)  # read before a change: stale at once
    assert (cache.get("a"), cache.get("b")) == (1, None)
    generation[0] = 2
    assert cache.get("a") is None


def test_near_its_end_one_fast_caller_is_sent_to_refresh() -> None:
    clock = FakeClock()
    cache: BoundedCache[str, int] = BoundedCache(10, ttl=1.0, refresh_share=0.2, clock=clock)
    cache.put("a", 1)
    clock.now += 0.85
    assert cache.get("a") is None  # the first caller refreshes
    assert cache.get("a") == 1  # the others keep the live value
    assert cache.get("a", reading=True) is None  # a thread that can read the database
    cache.put("a", 2)
    assert cache.get("a") == 2


def test_update_keeps_the_expiry() -> None:
    clock = FakeClock()
    cache: BoundedCache[str, int] = BoundedCache(10, ttl=1.0, clock=clock)
    cache.put("a", 1)
    clock.now += 0.5
    cache.update("a", 2)
    assert cache.get("a") == 2
    clock.now += 0.6
    assert cache.get("a") is None
    cache.update("a", 3)  # a gone entry is not brought back
    assert cache.get("a") is None
