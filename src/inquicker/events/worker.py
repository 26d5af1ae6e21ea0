"""The deliverer: sequence -> fan out -> claim -> send (concurrently) -> record, in a loop.

One loop serves both channels: webhooks (HTTP POST) and HL7 destinations (MLLP).

Each step is its own short transaction, so a worker killed at any point loses nothing:
unsequenced events are sequenced by the next run, un-fanned positions fanned out, and
leased-but-unrecorded deliveries become due again when their lease runs out (at least once).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


@dataclass(frozen=True)
class WorkerConfig:
    timeout: float = 10.0  # SPEC section 11: a 2xx (or an HL7 AA) within 10 s is success
    concurrency: int = 32  # requests in flight at once
    poll_interval: float = 0.1  # idle wait between runs; bounds booking -> receiver latency
    lease: int = LEASE_SECONDS
    retry_window: int = RETRY_WINDOW_SECONDS

    @property
    def batch(self) -> int:
        # Two rounds per batch: even if every request times out, the batch ends in about
        # 2 x timeout (20 s), well inside the lease, so no other worker re-sends it meanwhile.
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

    def _send_all(self, claimed: list[Claimed]) -> list[AttemptResult]:
        # A batch holds at most one delivery per subscription and visit (the claim skips a
        # visit's later events while an earlier one is pending), so sending the batch
        # concurrently cannot reorder one visit's events.
        def one(c: Claimed) -> AttemptResult:
            if c.channel == "hl7":
                return send_hl7(c, self.phi_key, self.guard, self.config.timeout)
            return send(self.client, c, self.phi_key, self.guard)

        return list(self.pool.map(one, claimed))

    def run_once(self) -> int:
        self.prepare()
        return len(self.deliver())

    def run(self, stop: threading.Event, parent_pid: int | None = None) -> None:
        """Loop until ``stop`` is set (or the parent process is gone); a database problem is
        logged and retried, never fatal."""
        failures = 0
        while not stop.is_set():
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("webhook deliverer: parent process gone, stopping")
                return
            try:
                sent = self.run_once()
                failures = 0
            except SQLAlchemyError as exc:
                # The class and first line only: parameters may hold response excerpts.
                failures += 1
                first = str(getattr(exc, "orig", exc)).splitlines()[:1]
                log.warning("webhook deliverer: database error %s %s", type(exc).__name__, first)
                stop.wait(min(0.5 * 2**failures, 10.0))
                continue
            if sent == 0:
                stop.wait(self.config.poll_interval)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
