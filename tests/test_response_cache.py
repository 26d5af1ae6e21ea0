"""The response cache and the tenant/key directory, without the test databases.

The directory reads through fakes of resolve_tenant/authenticate; two tests give it a
session on an in-memory SQLite database, to have a transaction that has begun. Sizes are
measured through the public ``size_bytes`` (one entry put into an empty cache),
so the tests hold whatever the per-entry overhead is, as long as it is counted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from inquicker.tenancy import changes, directory
from inquicker.tenancy.directory import FRESH_SECONDS, REFRESH_SHARE, Directory
from inquicker.tenancy.keys import hash_key
from inquicker.tenancy.resolve import Principal, Tenant
from inquicker.web.response_cache import (
    ENTRY_OVERHEAD,
    CacheKey,
    ResponseCache,
    cache_key,
)

# The last moment at which every caller is still served from memory (no early refresh).
SERVED = FRESH_SECONDS * (1 - REFRESH_SHARE) - 0.001
TENANT = Tenant(site_pk=1, hostname="alpha.example.com", health_system_pks=(7,), data_versions=(3,))
BASE = "http://testserver/api/v3/alpha.example.com"


def key(n: int, tenant: Tenant = TENANT) -> CacheKey:
    """Distinct keys of one length (the number is zero-padded), so their sizes are equal."""
    return cache_key(tenant, BASE, f"{BASE}/locations", [("page[number]", f"{n:06d}")])


def body(size: int, fill: bytes = b"x") -> bytes:
    return fill * size


def entry_size(k: CacheKey, size: int) -> int:
    """What one entry of this key and body length counts, as the cache reports it."""
    probe = ResponseCache(1 << 30)
    probe.put(k, body(size), '"t"', changes.generation())
    assert len(probe) == 1
    return probe.size_bytes


def put(cache: ResponseCache, k: CacheKey, size: int, fill: bytes = b"x") -> None:
    cache.put(k, body(size, fill), f'"{fill.decode()}{size}"', changes.generation())


# --- ResponseCache ---------------------------------------------------------------------------


def test_an_entry_counts_its_body_its_key_and_the_overhead() -> None:
    k = key(1)
    small, large = entry_size(k, 100), entry_size(k, 1100)
    assert large - small == 1000  # the body, byte for byte
    # The key's strings are counted too: base URL, request URL, parameter name and value.
    key_bytes = len(BASE) + len(f"{BASE}/locations") + len("page[number]") + len("000001")
    assert small == 100 + key_bytes + ENTRY_OVERHEAD


def test_a_hit_returns_the_body_and_etag_that_were_put() -> None:
    cache = ResponseCache(1_000_000)
    cache.put(key(1), b'{"data":[]}', '"abc"', changes.generation())
    found = cache.get(key(1))
    assert found is not None
    assert (found.body, found.etag) == (b'{"data":[]}', '"abc"')
    assert cache.get(key(2)) is None
    # Another tenant, another data version or another link base is another document.
    other_site = Tenant(2, TENANT.hostname, TENANT.health_system_pks, TENANT.data_versions)
    newer = Tenant(1, TENANT.hostname, TENANT.health_system_pks, (4,))
    assert cache.get(key(1, other_site)) is None
    assert cache.get(key(1, newer)) is None
    assert cache.get(cache_key(TENANT, BASE.upper(), f"{BASE}/locations", [])) is None


def test_least_recently_used_goes_first() -> None:
    one = entry_size(key(0), 1000)
    cache = ResponseCache(8 * one)  # eight entries fit (none may exceed an eighth), not nine
    for n in range(1, 9):
        put(cache, key(n), 1000)
    assert (len(cache), cache.size_bytes) == (8, 8 * one)
    assert cache.get(key(1)) is not None  # 1 is now the most recently used
    put(cache, key(9), 1000)
    assert cache.get(key(2)) is None  # the least recently used went
    assert all(cache.get(key(n)) is not None for n in (1, 3, 4, 5, 6, 7, 8, 9))
    assert (len(cache), cache.size_bytes) == (8, 8 * one)
    # The gets just made 1, 3, ..., 9 recent in that order: 10 pushes out 1, 11 pushes out 3.
    put(cache, key(10), 1000)
    put(cache, key(11), 1000)
    assert [cache.get(key(n)) is not None for n in (1, 3, 4)] == [False, False, True]


def test_a_large_entry_evicts_as_many_old_entries_as_it_needs() -> None:
    small = entry_size(key(0), 100)
    cache = ResponseCache(8 * small * 4)
    for n in range(1, 33):
        put(cache, key(n), 100)
    assert (len(cache), cache.size_bytes) == (32, 32 * small)
    big = 4 * small - entry_size(key(0), 0)  # exactly the size of four small entries
    put(cache, key(99), big)
    assert cache.size_bytes == 32 * small  # 4 small out, the big one in
    assert len(cache) == 29
    assert [cache.get(key(n)) is None for n in (1, 2, 3, 4, 5)] == [True] * 4 + [False]


def test_many_distinct_keys_never_exceed_the_bound() -> None:
    one = entry_size(key(0), 500)
    bound = 50 * one + one // 2  # room for 50 entries and a half
    cache = ResponseCache(bound)
    for n in range(10_000):
        put(cache, key(n), 500)
        assert cache.size_bytes <= bound
    assert (len(cache), cache.size_bytes) == (50, 50 * one)
    assert all(cache.get(key(n)) is not None for n in range(9_950, 10_000))
    assert all(cache.get(key(n)) is None for n in range(9_950))


def test_an_entry_over_an_eighth_of_the_bound_is_not_stored() -> None:
    bound = 80_000
    empty = entry_size(key(1), 0)
    cache = ResponseCache(bound)
    put(cache, key(1), bound // 8 - empty + 1)  # one byte over an eighth
    assert (len(cache), cache.size_bytes, cache.get(key(1))) == (0, 0, None)
    put(cache, key(2), bound // 8 - empty)  # exactly an eighth
    assert (len(cache), cache.size_bytes) == (1, bound // 8)
    assert cache.get(key(2)) is not None


def test_an_oversize_document_does_not_flush_the_others() -> None:
    one = entry_size(key(0), 100)
    cache = ResponseCache(100 * one)
    for n in range(10):
        put(cache, key(n), 100)
    put(cache, key(50), 100 * one)  # would need the whole cache
    assert (len(cache), cache.size_bytes) == (10, 10 * one)
    assert all(cache.get(key(n)) is not None for n in range(10))


def test_zero_bytes_stores_nothing() -> None:
    cache = ResponseCache(0)
    put(cache, key(1), 0)
    put(cache, key(2), 10)
    assert (len(cache), cache.size_bytes) == (0, 0)
    assert cache.get(key(1)) is None


def test_putting_a_key_again_replaces_it_without_counting_it_twice() -> None:
    cache = ResponseCache(1_000_000)
    first = entry_size(key(1), 100)
    put(cache, key(1), 100, b"a")
    put(cache, key(1), 300, b"b")
    assert len(cache) == 1
    assert cache.size_bytes == first + 200
    found = cache.get(key(1))
    assert found is not None
    assert (found.body, found.etag) == (b"b" * 300, '"b300"')
    put(cache, key(1), 50, b"c")
    assert (len(cache), cache.size_bytes) == (1, first - 50)


def test_putting_a_key_again_makes_it_the_most_recent() -> None:
    one = entry_size(key(0), 100)
    cache = ResponseCache(8 * one)
    put(cache, key(1), 100, b"a")
    for n in range(2, 9):
        put(cache, key(n), 100)
    put(cache, key(1), 100, b"b")  # 2 is now the least recently used
    put(cache, key(9), 100)
    assert cache.get(key(2)) is None
    found = cache.get(key(1))
    assert found is not None and found.body == b"b" * 100
    assert (len(cache), cache.size_bytes) == (8, 8 * one)


def test_a_change_in_this_process_drops_entries_on_get() -> None:
    cache = ResponseCache(1_000_000)
    put(cache, key(1), 100)
    put(cache, key(2), 100)
    one = entry_size(key(1), 100)
    assert cache.get(key(1)) is not None
    changes.note_change()
    assert cache.get(key(1)) is None
    assert (len(cache), cache.size_bytes) == (1, one)  # dropped, with its bytes
    assert cache.get(key(2)) is None
    assert (len(cache), cache.size_bytes) == (0, 0)
    # Made after the change: served.
    put(cache, key(1), 100)
    assert cache.get(key(1)) is not None


def test_an_entry_rendered_before_a_change_is_never_served() -> None:
    """A request reads the generation before its data; if a change commits meanwhile, the
    document it stores is already stale."""
    cache = ResponseCache(1_000_000)
    before = changes.generation()
    changes.note_change()
    cache.put(key(1), b"old", '"old"', before)
    assert cache.get(key(1)) is None
    assert (len(cache), cache.size_bytes) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("put"), st.integers(0, 11), st.integers(0, 1500)),
            st.tuples(st.just("get"), st.integers(0, 11), st.just(0)),
        ),
        max_size=80,
    ),
    st.integers(0, 9000),
)
def test_the_cache_behaves_like_a_byte_bounded_lru(
    operations: list[tuple[str, int, int]], bound: int
) -> None:
    """Against a reference model: same entries, same bytes, never over the bound."""
    overhead = entry_size(key(0), 0)
    cache = ResponseCache(bound)
    model: OrderedDict[int, int] = OrderedDict()  # key -> entry size, oldest first
    for op, n, size in operations:
        if op == "get":
            found = cache.get(key(n))
            assert (found is not None) == (n in model)
            if n in model:
                assert found is not None and found.body == body(size=model[n] - overhead)
                model.move_to_end(n)
            continue
        put(cache, key(n), size)
        entry = size + overhead
        if entry <= bound // 8:
            model.pop(n, None)
            model[n] = entry
            while sum(model.values()) > bound:
                model.popitem(last=False)
        assert cache.size_bytes == sum(model.values()) <= bound
        assert len(cache) == len(model)


# --- Directory -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeDatabase:
    """Stands in for resolve_tenant/authenticate: counts reads, answers what it is told."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {TENANT.hostname: TENANT}
        self.keys: dict[tuple[int, str], Principal] = {
            (1, hash_key("good")): Principal(11, "key_good", frozenset({"read"}), touch=True)
        }
        self.tenant_reads = 0
        self.key_reads = 0
        self.during_read: list[Any] = []  # callables run inside the next read

    def resolve_tenant(self, _session: Session, hostname: str) -> Tenant | None:
        self.tenant_reads += 1
        self._meanwhile()
        return self.tenants.get(hostname.lower())

    def authenticate(
        self, _session: Session, tenant: Tenant, raw_key: str, _now: datetime
    ) -> Principal | None:
        self.key_reads += 1
        self._meanwhile()
        return self.keys.get((tenant.site_pk, hash_key(raw_key)))

    def _meanwhile(self) -> None:
        while self.during_read:
            self.during_read.pop(0)()


SESSION = Session()  # unbound and never used to read: the fake database ignores it
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatabase]:
    fake = FakeDatabase()
    monkeypatch.setattr(directory, "resolve_tenant", fake.resolve_tenant)
    monkeypatch.setattr(directory, "authenticate", fake.authenticate)
    yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_tenant_is_fresh_for_just_under_the_window(db: FakeDatabase, clock: FakeClock) -> None:
    dirs = Directory(clock=clock)
    assert dirs.known_tenant(TENANT.hostname) is None  # nothing read yet
    assert dirs.tenant(SESSION, TENANT.hostname) == TENANT
    assert db.tenant_reads == 1
    read_at = clock.now
    clock.now += SERVED
    assert dirs.known_tenant(TENANT.hostname) == TENANT
    assert dirs.known_tenant("ALPHA.Example.COM") == TENANT  # hostnames ignore case
    assert dirs.tenant(SESSION, TENANT.hostname) == TENANT
    assert db.tenant_reads == 1
    # At the window's end: read again, and the new data version is seen.
    clock.now = read_at + FRESH_SECONDS
    assert dirs.known_tenant(TENANT.hostname) is None
    newer = Tenant(1, TENANT.hostname, (7,), (4,))
    db.tenants[TENANT.hostname] = newer
    assert dirs.tenant(SESSION, TENANT.hostname) == newer
    assert db.tenant_reads == 2
    assert dirs.known_tenant(TENANT.hostname) == newer


def test_an_unknown_hostname_is_asked_every_time(db: FakeDatabase, clock: FakeClock) -> None:
    dirs = Directory(clock=clock)
    assert dirs.tenant(SESSION, "nowhere.example.com") is None
    assert dirs.tenant(SESSION, "nowhere.example.com") is None
    assert db.tenant_reads == 2
    assert dirs.known_tenant("nowhere.example.com") is None
    # A site added since is found at once.
    db.tenants["nowhere.example.com"] = Tenant(5, "nowhere.example.com", (), ())
    assert dirs.tenant(SESSION, "nowhere.example.com") == db.tenants["nowhere.example.com"]


def test_a_key_is_fresh_for_just_under_the_window(db: FakeDatabase, clock: FakeClock) -> None:
    dirs = Directory(clock=clock)
    expected = db.keys[(1, hash_key("good"))]
    assert dirs.known_principal(TENANT, "good") is None
    assert dirs.principal(SESSION, TENANT, "good", NOW) == expected
    read_at = clock.now
    clock.now += SERVED
    assert dirs.known_principal(TENANT, "good") == expected
    assert dirs.known_principal(TENANT, " good ") == expected  # hashed as presented, stripped
    assert dirs.principal(SESSION, TENANT, "good", NOW) == expected
    assert db.key_reads == 1
    # Revoked meanwhile elsewhere: seen once the window has passed.
    del db.keys[(1, hash_key("good"))]
    clock.now = read_at + FRESH_SECONDS
    assert dirs.known_principal(TENANT, "good") is None
    assert dirs.principal(SESSION, TENANT, "good", NOW) is None
    assert db.key_reads == 2


def test_a_key_is_known_for_its_own_site_only(db: FakeDatabase, clock: FakeClock) -> None:
    dirs = Directory(clock=clock)
    assert dirs.principal(SESSION, TENANT, "good", NOW) is not None
    beta = Tenant(2, "beta.example.com", (8,), (1,))
    assert dirs.known_principal(beta, "good") is None
    assert dirs.principal(SESSION, beta, "good", NOW) is None
    assert dirs.known_principal(TENANT, "wrong") is None


def test_an_unknown_key_is_asked_every_time(db: FakeDatabase, clock: FakeClock) -> None:
    dirs = Directory(clock=clock)
    assert dirs.principal(SESSION, TENANT, "wrong", NOW) is None
    assert dirs.principal(SESSION, TENANT, "wrong", NOW) is None
    assert db.key_reads == 2
    # A key created since is accepted at once.
    db.keys[(1, hash_key("wrong"))] = Principal(12, "key_new", frozenset({"read"}))
    assert dirs.principal(SESSION, TENANT, "wrong", NOW) == db.keys[(1, hash_key("wrong"))]


def test_a_change_in_this_process_invalidates_tenants_and_keys(
    db: FakeDatabase, clock: FakeClock
) -> None:
    dirs = Directory(clock=clock)
    dirs.tenant(SESSION, TENANT.hostname)
    dirs.principal(SESSION, TENANT, "good", NOW)
    changes.note_change()
    assert dirs.known_tenant(TENANT.hostname) is None  # at the same instant
    assert dirs.known_principal(TENANT, "good") is None
    dirs.tenant(SESSION, TENANT.hostname)
    dirs.principal(SESSION, TENANT, "good", NOW)
    assert (db.tenant_reads, db.key_reads) == (2, 2)
    assert dirs.known_tenant(TENANT.hostname) == TENANT


def test_a_change_committed_during_a_read_is_not_masked(db: FakeDatabase, clock: FakeClock) -> None:
    """The generation is taken before the read: what was read before a change committed in
    this process is not remembered as current."""
    dirs = Directory(clock=clock)
    db.during_read.append(changes.note_change)
    assert dirs.tenant(SESSION, TENANT.hostname) == TENANT  # this request uses what it read
    assert dirs.known_tenant(TENANT.hostname) is None  # ... but the next one reads again
    db.during_read.append(changes.note_change)
    assert dirs.principal(SESSION, TENANT, "good", NOW) is not None
    assert dirs.known_principal(TENANT, "good") is None


def test_a_recorded_use_is_remembered_without_extending_a_stale_entry(
    db: FakeDatabase, clock: FakeClock
) -> None:
    dirs = Directory(clock=clock)
    principal = dirs.principal(SESSION, TENANT, "good", NOW)
    assert principal is not None and principal.touch
    dirs.touched(TENANT, "good", principal)
    known = dirs.known_principal(TENANT, "good")
    assert known is not None
    assert (known.key_pk, known.scopes, known.touch) == (11, frozenset({"read"}), False)
    # Once the window has passed, recording a use brings nothing back.
    clock.now += FRESH_SECONDS
    dirs.touched(TENANT, "good", principal)
    assert dirs.known_principal(TENANT, "good") is None
    # ... nor after a change in this process.
    dirs.principal(SESSION, TENANT, "good", NOW)
    changes.note_change()
    dirs.touched(TENANT, "good", principal)
    assert dirs.known_principal(TENANT, "good") is None


def test_what_a_transaction_reads_is_remembered_under_the_generation_it_began_in() -> None:
    """A SQLite transaction reads one snapshot: a change noted after it began is newer than
    anything it reads (an in-memory database stands in for the request's)."""
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        with session.begin():
            assert changes.generation_read_by(session) == changes.generation()  # not begun
            session.execute(text("SELECT 1"))
            began = changes.generation()
            changes.note_change()
            assert changes.generation_read_by(session) == began != changes.generation()
        # The next transaction starts from the generation current when it begins.
        with session.begin():
            session.execute(text("SELECT 1"))
            assert changes.generation_read_by(session) == changes.generation()
    engine.dispose()


def test_a_key_read_in_a_transaction_older_than_a_change_is_not_remembered(
    db: FakeDatabase, clock: FakeClock
) -> None:
    engine = create_engine("sqlite://")
    dirs = Directory(clock=clock)
    with Session(engine) as session, session.begin():
        session.execute(text("SELECT 1"))  # the request has read its site
        changes.note_change()  # e.g. the key is revoked here, committed meanwhile
        assert dirs.principal(session, TENANT, "good", NOW) is not None  # its snapshot's answer
        assert dirs.tenant(session, TENANT.hostname) == TENANT
    assert dirs.known_principal(TENANT, "good") is None
    assert dirs.known_tenant(TENANT.hostname) is None
    engine.dispose()


def test_recording_a_use_does_not_extend_the_window(db: FakeDatabase, clock: FakeClock) -> None:
    """The window counts from when the key was read: a key revoked elsewhere meanwhile must be
    refused FRESH_SECONDS after that read, however long the request took to record its use."""
    dirs = Directory(clock=clock)
    principal = dirs.principal(SESSION, TENANT, "good", NOW)
    assert principal is not None
    read_at = clock.now
    clock.now += SERVED  # a slow request records the use late in the window
    dirs.touched(TENANT, "good", principal)
    known = dirs.known_principal(TENANT, "good")
    assert known is not None and not known.touch
    clock.now = read_at + FRESH_SECONDS
    assert dirs.known_principal(TENANT, "good") is None


def test_near_the_window_end_one_caller_refreshes_and_the_others_keep_the_value(
    db: FakeDatabase, clock: FakeClock
) -> None:
    """Under load, one request per entry reads the database again before it expires,
    instead of every request in flight at the moment of expiry."""
    dirs = Directory(clock=clock)
    assert dirs.tenant(SESSION, TENANT.hostname) == TENANT
    read_at = clock.now
    clock.now = read_at + FRESH_SECONDS * (1 - REFRESH_SHARE) + 0.001
    assert dirs.known_tenant(TENANT.hostname) is None  # this caller is sent to the database
    assert [dirs.known_tenant(TENANT.hostname) for _ in range(3)] == [TENANT] * 3
    newer = Tenant(1, TENANT.hostname, (7,), (4,))
    db.tenants[TENANT.hostname] = newer
    assert dirs.tenant(SESSION, TENANT.hostname) == newer  # the refresh
    assert db.tenant_reads == 2
    clock.now = read_at + FRESH_SECONDS + 0.5  # the old entry's end: the new one lives on
    assert dirs.known_tenant(TENANT.hostname) == newer
