"""Delivery through a real HTTP receiver: signatures, retries, failures, order, patient data.

Time is the deliverer's injected clock (moved by the tests, never slept through).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time

from sqlalchemy import update

from inquicker.booking.models import Visit
from inquicker.events.models import WebhookSubscription
from tests.events.conftest import World
from tests.events.receiver import Answer, Received, running_receiver


def test_signed_delivery_is_verified_by_the_receiver(world: World) -> None:
    with running_receiver(secret=None) as rx:
        rx.secret = world.subscribe(rx.base + "/hooks")
        visit_pk = world.visit("Ada")
        with world.deliverer() as d:
            assert d.prepare() == 1
            [result] = d.deliver()
        assert (result.outcome, result.status_code, result.excerpt) == ("success", 200, "ok")
        [got] = rx.received
        assert got.verified is True
        [delivery] = world.deliveries()
        assert got.headers["webhook-id"] == str(delivery.event_pk)
        assert got.headers["webhook-signature"].startswith("v1,")
        assert got.body["type"] == "visit.booked"
        assert got.body["timestamp"] == got.body["data"]["occurred-at"]
        data = got.body["data"]
        assert data["id"] == str(delivery.event_pk)
        assert data["health-system"] == "reliable"
        assert data["visit"]["status"] == "booked"
        assert data["visit"]["schedule"] == "solo-clinic"
        assert "patient" not in data
        assert (delivery.status, delivery.attempts, delivery.visit_pk) == ("delivered", 1, visit_pk)


def test_a_500_is_retried_after_5_seconds_then_delivered(world: World) -> None:
    answers = {1: Answer(500, b"boom")}
    with running_receiver(behaviour=lambda _r, n: answers.get(n, Answer())) as rx:
        world.subscribe(rx.base)
        world.visit()
        with world.deliverer() as d:
            d.prepare()
            assert [r.outcome for r in d.deliver()] == ["http-error"]
            [delivery] = world.deliveries()
            assert delivery.next_attempt_at == int(world.clock.now) + 5
            assert d.deliver() == []  # not due yet
            world.clock.advance(4)
            assert d.deliver() == []
            world.clock.advance(1)
            assert [r.outcome for r in d.deliver()] == ["success"]
    assert [(a.outcome, a.status_code, a.response_excerpt) for a in world.attempts()] == [
        ("http-error", 500, "boom"),
        ("success", 200, "ok"),
    ]
    [delivery] = world.deliveries()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(rx.received) == 2
    assert rx.received[0].headers["webhook-id"] == rx.received[1].headers["webhook-id"]


def test_retries_back_off_then_the_delivery_dies_after_24_hours(world: World) -> None:
    with running_receiver(behaviour=lambda _r, _n: Answer(503, b"down")) as rx:
        world.subscribe(rx.base)
        world.visit()
        start = int(world.clock.now)
        times = []
        with world.deliverer() as d:
            d.prepare()
            while True:
                [delivery] = world.deliveries()
                if delivery.status != "pending":
                    break
                world.clock.now = float(delivery.next_attempt_at)
                times.append(int(world.clock.now) - start)
                assert [r.outcome for r in d.deliver()] == ["http-error"]
    delays = [b - a for a, b in itertools.pairwise(times)]
    # 5 s, 15 s, 45 s (within about a minute), then x3 up to an hour, for 24 hours.
    assert delays[:7] == [5, 15, 45, 135, 405, 1215, 3600]
    assert set(delays[6:]) == {3600}
    assert len(times) == 31
    assert times[-2] < 24 * 3600 <= times[-1]
    [delivery] = world.deliveries()
    assert (delivery.status, delivery.attempts) == ("dead", 31)
    assert len(world.attempts()) == 31
    assert len(rx.received) == 31


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(world: World) -> None:
    def behaviour(r: Received, _n: int) -> Answer:
        if r.path == "/moved":
            return Answer(302, b"", headers={"location": "/elsewhere"})
        return Answer()

    with running_receiver(behaviour=behaviour) as rx:
        world.subscribe(rx.base + "/moved")
        world.visit()
        with world.deliverer() as d:
            d.prepare()
            [result] = d.deliver()
    assert (result.outcome, result.status_code) == ("redirect", 302)
    assert result.excerpt.startswith("redirect to /elsewhere")
    assert [r.path for r in rx.received] == ["/moved"]
    [delivery] = world.deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 1)


def test_a_slow_receiver_times_out_and_is_retried(world: World) -> None:
    with running_receiver(behaviour=lambda _r, _n: Answer(delay=1.5)) as rx:
        world.subscribe(rx.base)
        world.visit()
        with world.deliverer(timeout=0.3) as d:
            d.prepare()
            [result] = d.deliver()
    assert result.outcome == "timeout"
    assert result.status_code is None
    assert 250 <= result.duration_ms < 1500
    [attempt] = world.attempts()
    assert (attempt.outcome, attempt.status_code) == ("timeout", None)
    [delivery] = world.deliveries()
    assert (delivery.status, delivery.next_attempt_at) == ("pending", int(world.clock.now) + 5)


def test_an_unreachable_receiver_is_a_recorded_connection_error(world: World) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    world.subscribe(f"http://127.0.0.1:{port}/hook")
    world.visit()
    with world.deliverer() as d:
        d.prepare()
        [result] = d.deliver()
    assert result.outcome == "connection-error"
    assert result.excerpt.startswith("ConnectError")
    [delivery] = world.deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 1)


def test_a_metadata_address_is_refused_at_send_time(world: World) -> None:
    world.subscribe("http://127.0.0.1:9/")
    with world.factory() as session, session.begin():
        # As if a host name had come to resolve there: the sender checks again.
        session.execute(update(WebhookSubscription).values(url="http://169.254.169.254/latest"))
    world.visit()
    with world.deliverer() as d:
        d.prepare()
        [result] = d.deliver()
    assert result.outcome == "refused-address"
    assert "169.254.169.254 is a cloud metadata address" in result.excerpt


def test_one_visits_events_arrive_in_order_even_across_retries(world: World) -> None:
    failed_once: set[str] = set()

    def behaviour(r: Received, _n: int) -> Answer:
        # The first visit.booked of visit A fails once.
        is_booked_a = r.body["data"]["visit"]["id"] == first_visit_id
        if is_booked_a and r.body["type"] == "visit.booked" and not failed_once:
            failed_once.add("yes")
            return Answer(500)
        return Answer()

    with running_receiver(behaviour=behaviour) as rx:
        world.subscribe(rx.base)
        a = world.visit("A", minute=0)
        world.event(a, "visit.rescheduled")
        world.event(a, "visit.cancelled")
        b = world.visit("B", minute=30)
        with world.factory() as session:
            first_visit_id = session.get_one(Visit, a).visit_id
        with world.deliverer() as d:
            assert d.prepare() == 4
            # A's booked (fails) and B's booked; A's later events wait for A's booked.
            assert sorted(r.outcome for r in d.deliver()) == ["http-error", "success"]
            assert d.deliver() == []
            world.clock.advance(5)
            for _ in range(3):
                assert [r.outcome for r in d.deliver()] == ["success"]
            assert d.deliver() == []
    types_for_a = [
        r.body["type"] for r in rx.received if r.body["data"]["visit"]["id"] == first_visit_id
    ]
    assert types_for_a == ["visit.booked", "visit.booked", "visit.rescheduled", "visit.cancelled"]
    assert {d.status for d in world.deliveries()} == {"delivered"}
    assert b != a


def test_patient_data_only_for_include_patient_data_subscriptions(world: World) -> None:
    with running_receiver() as rx:
        world.subscribe(rx.base + "/plain")
        world.subscribe(rx.base + "/with-patient", patient=True)
        world.visit("Grace")
        with world.deliverer() as d:
            d.prepare()
            assert [r.outcome for r in d.deliver()] == ["success", "success"]
    by_path = {r.path: r.body["data"] for r in rx.received}
    assert "patient" not in by_path["/plain"]
    assert by_path["/with-patient"]["patient"] == {"first-name": "Grace", "last-name": "Lovelace"}
    # Nothing recorded about the attempts holds it.
    assert all("Grace" not in a.response_excerpt for a in world.attempts())


def test_event_types_filter_what_a_subscription_receives(world: World) -> None:
    with running_receiver() as rx:
        world.subscribe(rx.base, events="visit.cancelled")
        a = world.visit()
        world.event(a, "visit.cancelled")
        with world.deliverer() as d:
            assert d.prepare() == 1
            d.deliver()
    assert [r.body["type"] for r in rx.received] == ["visit.cancelled"]


def test_a_new_subscription_starts_at_the_current_feed_position(world: World) -> None:
    with running_receiver() as rx:
        world.visit("Before")
        with world.deliverer() as d:
            d.prepare()  # positions the old event
            world.subscribe(rx.base)
            assert d.prepare() == 0
            world.visit("After", minute=30)
            assert d.prepare() == 1


def test_the_worker_loop_delivers_every_event_in_order_and_records_every_attempt(
    world: World,
) -> None:
    # Deliverer.run pipelines batches (one recorded while the next is sent): with a batch of
    # 4 and 18 events, several batches are out at once.
    with running_receiver() as rx:
        rx.secret = world.subscribe(rx.base)
        visits = [world.visit(f"P{n}", minute=15 * n) for n in range(6)]
        for visit_pk in visits:
            world.event(visit_pk, "visit.rescheduled")
            world.event(visit_pk, "visit.cancelled")
        deliverer = world.deliverer(concurrency=2)
        stop = threading.Event()
        runner = threading.Thread(target=deliverer.run, args=(stop,))
        runner.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(rx.received) < 18:
            time.sleep(0.02)
        stop.set()
        runner.join(timeout=30)
        deliverer.close()
    assert len(rx.received) == 18 and all(r.verified for r in rx.received)
    by_visit: dict[str, list[str]] = {}
    for r in rx.received:
        by_visit.setdefault(r.body["data"]["visit"]["id"], []).append(r.body["type"])
    assert list(by_visit.values()) == [["visit.booked", "visit.rescheduled", "visit.cancelled"]] * 6
    deliveries = world.deliveries()
    assert {(d.status, d.attempts, d.lease_until) for d in deliveries} == {("delivered", 1, None)}
    assert sorted(a.delivery_pk for a in world.attempts()) == sorted(d.pk for d in deliveries)
