"""The deliverer: sequence -> fan out -> claim -> send (concurrently) -> record, in a loop.

One loop serves both channels: webhooks (HTTP POST) and HL7 destinations (MLLP).

Each step is its own short transaction, so a worker killed at any point loses nothing:
unsequenced events are sequenced by the next run, un-fanned positions fanned out, and
leased-but-unrecorded deliveries become due again when their lease runs out (at least once).

The loop is pipelined: while one batch is being sent, the previous one is recorded and the
next one claimed, so the sending threads do not sit idle through the database round trips
between batches. At most ``IN_FLIGHT`` batches are out at once (see ``WorkerConfig.batch``
for why that stays inside the lease). Per-visit order holds across batches as within one:
a claim skips a visit's later events while an earlier one is pending, and a batch being
sent is pending until it is recorded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from inquicker.db.engine import immediate_writes
from inquicker.events.delivery import (
    LEASE_SECONDS,
    RETRY_WINDOW_SECONDS,
    AttemptResult,
    Claimed,
    Jitter,
    claim,
    default_jitter,
    record,
)
from inquicker.events.fanout import fan_out
from inquicker.events.sender import AddressGuard, make_client, send
from inquicker.events.sequencer import assign_positions
from inquicker.hl7.mllp import send_hl7

log = logging.getLogger("inquicker.webhooks")

# Batches claimed and not yet recorded, at most: one being sent, one queued behind it.
IN_FLIGHT = 2


@dataclass(frozen=True)
class WorkerConfig:
    timeout: float = 10.0  # SPEC section 11: a 2xx (or an HL7 AA) within 10 s is success
    concurrency: int = 32  # requests in flight at once
    poll_interval: float = 0.1  # idle wait between runs; bounds booking -> receiver latency
    lease: int = LEASE_SECONDS
    retry_window: int = RETRY_WINDOW_SECONDS

    @property
    def batch(self) -> int:
        # Two rounds per batch, and IN_FLIGHT (2) batches out at once: even if every request
        # times out, a batch is done within 4 x timeout (40 s) of being claimed, inside the
        # 60 s lease, so no other worker re-sends it meanwhile.
        return self.concurrency * 2


class Deliverer:
    """One worker's deliverer. ``clock`` (epoch seconds) and ``jitter`` are injectable so
    tests can move time instead of sleeping."""

    def __init__(
        self,
        engine: Engine,
        phi_key: bytes | None = None,
        config: WorkerConfig | None = None,
        clock: Callable[[], float] = time.time,
        jitter: Jitter = default_jitter,
    ) -> None:
        self.engine = engine
        self.phi_key = phi_key
        self.config = config or WorkerConfig()
        self.clock = clock
        self.jitter = jitter
        self.client = make_client(self.config.timeout, self.config.concurrency)
        self.pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="webhook")
        self.guard = AddressGuard()

    def now(self) -> int:
        return int(self.clock())

    def prepare(self) -> int:
        """Sequence committed events and fan them out; how many deliveries were created."""
        with immediate_writes(), self.engine.begin() as conn:
            assign_positions(conn)
        with immediate_writes(), self.engine.begin() as conn:
            return fan_out(conn, self.now())

    def deliver(self) -> list[AttemptResult]:
        """Claim one batch of due deliveries, send them concurrently, record the attempts."""
        with immediate_writes(), self.engine.begin() as conn:
            claimed = claim(conn, self.now(), self.config.batch, self.config.lease)
        if not claimed:
            return []
        results = self._send_all(claimed)
        with immediate_writes(), self.engine.begin() as conn:
            record(conn, claimed, results, self.now(), self.jitter, self.config.retry_window)
        return results

    def _one(self, c: Claimed) -> AttemptResult:
        if c.channel == "hl7":
            return send_hl7(c, self.phi_key, self.guard, self.config.timeout)
        return send(self.client, c, self.phi_key, self.guard)

    def _send_all(self, claimed: list[Claimed]) -> list[AttemptResult]:
        # A batch holds at most one delivery per subscription and visit (the claim skips a
        # visit's later events while an earlier one is pending), so sending the batch
        # concurrently cannot reorder one visit's events.
        return list(self.pool.map(self._one, claimed))

    def run_once(self) -> int:
        self.prepare()
        return len(self.deliver())

    def run(self, stop: threading.Event, parent_pid: int | None = None) -> None:
        """Loop until ``stop`` is set (or the parent process is gone); a database problem is
        logged and retried, never fatal. Batches already being sent when it stops are
        finished and recorded."""
        pipeline = _Pipeline(self)
        failures = 0
        try:
            while not stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    log.warning("webhook deliverer: parent process gone, stopping")
                    return
                try:
                    busy = pipeline.step()
                    failures = 0
                except SQLAlchemyError as exc:
                    # The class and first line only: parameters may hold response excerpts.
                    failures += 1
                    first = str(getattr(exc, "orig", exc)).splitlines()[:1]
                    log.warning(
                        "webhook deliverer: database error %s %s", type(exc).__name__, first
                    )
                    stop.wait(min(0.5 * 2**failures, 10.0))
                    continue
                if not busy:
                    stop.wait(self.config.poll_interval)
        finally:
            try:
                pipeline.drain()
            except SQLAlchemyError as exc:  # the leases run out: those are sent again
                log.warning("webhook deliverer: could not record the last batches: %s", exc)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class _Batch:
    claimed: list[Claimed]
    sending: list[Future[AttemptResult]]

    def done(self) -> bool:
        return all(f.done() for f in self.sending)


class _Pipeline:
    """The run loop's state: batches claimed and being sent, oldest first."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.d = deliverer
        self.out: deque[_Batch] = deque()

    def step(self) -> bool:
        """Record finished batches, prepare, claim and start one more batch if there is
        room; whether there is work in hand (False: nothing due, the caller may sleep)."""
        d = self.d
        self._record_finished()
        d.prepare()
        if len(self.out) < IN_FLIGHT:
            with immediate_writes(), d.engine.begin() as conn:
                claimed = claim(conn, d.now(), d.config.batch, d.config.lease)
            if claimed:
                self.out.append(_Batch(claimed, [d.pool.submit(d._one, c) for c in claimed]))
                return True
        if not self.out:
            return False
        # Wait for the oldest batch to finish, or a poll interval (new events may be due).
        wait(self.out[0].sending, timeout=d.config.poll_interval)
        return True

    def _record_finished(self) -> None:
        # Oldest first, and only whole batches: a batch's results are recorded together.
        while self.out and (self.out[0].done() or len(self.out) >= IN_FLIGHT):
            self._record(self.out.popleft())

    def _record(self, batch: _Batch) -> None:
        d = self.d
        results = [f.result() for f in batch.sending]  # send() never raises
        with immediate_writes(), d.engine.begin() as conn:
            record(conn, batch.claimed, results, d.now(), d.jitter, d.config.retry_window)

    def drain(self) -> None:
        while self.out:
            self._record(self.out.popleft())
