"""SIU messages to a real MLLP listener: segments, ACK handling, retries, per-visit order.

Time is the deliverer's injected clock (moved by the tests, never slept through).
"""

from __future__ import annotations

import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import hl7
from sqlalchemy import select, update

from inquicker.booking.models import Visit
from inquicker.booking.phi import seal
from inquicker.hl7.destinations import create_destination
from tests.events.conftest import PHI_KEY, World
from tests.hl7v2.listener import Listener, running_listener

PATIENT = {
    "first-name": "Ada",
    "last-name": "O|Neil",  # a field separator in a name must survive the encoding
    "birthdate": "1990-12-10",
    "gender": "female",
    "phone-number": "555-0100",
    "email": "ada@example.org",
}


def _destination(world: World, port: int) -> str:
    with world.factory() as session, session.begin():
        return create_destination(session, "reliable", "127.0.0.1", port)


def _visit(world: World, minute: int = 0) -> int:
    visit_pk = world.visit(minute=minute)
    with world.factory() as session, session.begin():
        session.execute(
            update(Visit).where(Visit.pk == visit_pk).values(patient_data=seal(PATIENT, PHI_KEY))
        )
    return visit_pk


def _field(listener: Listener, index: int, name: str, number: int, component: int = 1) -> str:
    message = listener.received[index]
    return str(message.unescape(str(message[f"{name}.F{number}.R1.C{component}"])))


def _trigger(message: hl7.Message) -> str:
    return str(message["MSH.F9.R1.C2"])


def test_a_booking_reaches_the_ehr_as_siu_s12(world: World) -> None:
    with running_listener() as rx:
        _destination(world, rx.port)
        visit_pk = _visit(world)
        with world.deliverer() as d:
            assert d.prepare() == 1
            [result] = d.deliver()
        assert (result.outcome, result.status_code) == ("success", None)
        assert "MSA|AA" in result.excerpt
    with world.factory() as session:
        visit = session.get(Visit, visit_pk)
        assert visit is not None
        visit_id, confirmation, at = visit.visit_id, visit.confirmation_number, visit.appointment_at
    start = datetime.fromtimestamp(at, ZoneInfo("America/Chicago")).strftime("%Y%m%d%H%M%S%z")
    [delivery] = world.deliveries()
    assert rx.raw[0].startswith(b"\x0bMSH|^~\\&|INQUICKER|reliable|") and rx.raw[0].endswith(
        b"\x1c\x0d"
    )
    message = rx.received[0]
    assert [str(s(0)) for s in message] == ["MSH", "SCH", "PID", "RGS", "AIL", "AIP"]
    assert str(message.segment("MSH")(9)) == "SIU^S12^SIU_S12"
    assert str(message.segment("MSH")(10)) == str(delivery.event_pk)
    assert str(message.segment("MSH")(12)) == "2.5.1"
    assert _field(rx, 0, "SCH", 1) == visit_id
    assert _field(rx, 0, "SCH", 2) == str(confirmation) == "1"
    assert _field(rx, 0, "SCH", 9) == "15"  # the schedule's 15-minute slot (no type)
    assert _field(rx, 0, "SCH", 11, 4) == start
    assert _field(rx, 0, "SCH", 25) == "Booked"
    assert (_field(rx, 0, "PID", 5, 1), _field(rx, 0, "PID", 5, 2)) == ("O|Neil", "Ada")
    assert _field(rx, 0, "PID", 7) == "19901210"
    assert _field(rx, 0, "PID", 8) == "F"
    assert _field(rx, 0, "PID", 13, 4) == "ada@example.org"
    assert _field(rx, 0, "AIL", 3) == "loc-solo-clinic"
    assert (_field(rx, 0, "AIL", 6), _field(rx, 0, "AIL", 9)) == (start, "15")
    assert _field(rx, 0, "AIP", 3) == "dr-solo-clinic"
    assert (_field(rx, 0, "AIP", 6), _field(rx, 0, "AIP", 9)) == (start, "15")
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert (delivery.subscription_pk, delivery.visit_pk) == (None, visit_pk)
    [attempt] = world.attempts()
    assert (attempt.outcome, attempt.status_code) == ("success", None)


def test_each_lifecycle_event_has_its_trigger_and_others_are_not_sent(world: World) -> None:
    with running_listener() as rx:
        _destination(world, rx.port)
        moved, missed = _visit(world, 0), _visit(world, 1)
        world.event(moved, "visit.rescheduled")
        world.event(missed, "visit.checked-in")  # not an SIU trigger: not sent
        world.event(moved, "visit.cancelled")
        world.event(missed, "visit.no-show")
        world.event(missed, "visit.completed")  # not sent either
        with world.deliverer() as d:
            assert d.prepare() == 5
            while d.deliver():
                pass
    with world.factory() as session:
        ids = {pk: vid for pk, vid in session.execute(select(Visit.pk, Visit.visit_id)).all()}
    by_visit: dict[str, list[tuple[str, str]]] = {}
    for message in rx.received:
        status = str(message.segment("SCH")(25))
        by_visit.setdefault(str(message.segment("SCH")(1)), []).append((_trigger(message), status))
    assert by_visit == {
        ids[moved]: [("S12", "Booked"), ("S13", "Booked"), ("S15", "Cancelled")],
        ids[missed]: [("S12", "Booked"), ("S26", "Noshow")],
    }
    assert [d.status for d in world.deliveries()] == ["delivered"] * 5


def test_ae_is_retried_and_a_visits_later_event_waits_for_it(world: World) -> None:
    codes = {1: "AE", 2: "AR"}
    with running_listener(lambda _m, n: codes.get(n, "AA")) as rx:
        _destination(world, rx.port)
        visit_pk = _visit(world)
        world.event(visit_pk, "visit.cancelled")
        with world.deliverer() as d:
            assert d.prepare() == 2
            # The cancel is held back while the booking it cancels is being retried.
            assert [r.outcome for r in d.deliver()] == ["rejected"]
            booked = world.deliveries()[0]
            assert booked.next_attempt_at == int(world.clock.now) + 5
            assert d.deliver() == []  # not due yet
            world.clock.advance(5)
            assert [r.outcome for r in d.deliver()] == ["rejected"]
            world.clock.advance(15)  # the second retry comes 15 s later
            assert [r.outcome for r in d.deliver()] == ["success"]
            assert [r.outcome for r in d.deliver()] == ["success"]
    assert [_trigger(m) for m in rx.received] == ["S12", "S12", "S12", "S15"]
    # A retry is the same message: the EHR de-duplicates by the control id (MSH-10).
    assert len({str(m.segment("MSH")(10)) for m in rx.received[:3]}) == 1
    attempts = world.attempts()
    assert [a.outcome for a in attempts] == ["rejected", "rejected", "success", "success"]
    assert "MSA|AE" in attempts[0].response_excerpt
    assert "MSA|AR" in attempts[1].response_excerpt
    assert [(d.status, d.attempts) for d in world.deliveries()] == [
        ("delivered", 3),
        ("delivered", 1),
    ]


def test_silence_and_a_closed_port_are_failed_attempts(world: World) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the probe is closed
    with running_listener(lambda _m, _n: None) as rx:
        _destination(world, rx.port)
        _destination(world, closed_port)
        _visit(world)
        with world.deliverer(timeout=0.5) as d:
            assert d.prepare() == 2
            outcomes = sorted(r.outcome for r in d.deliver())
    assert outcomes == ["connection-error", "timeout"]
    assert [(d.status, d.attempts) for d in world.deliveries()] == [("pending", 1)] * 2
    assert len(rx.received) == 1


def test_webhook_subscriptions_and_hl7_destinations_get_their_own_deliveries(
    world: World,
) -> None:
    with running_listener() as rx:
        _destination(world, rx.port)
        world.subscribe("http://127.0.0.1:9/hooks", events="visit.checked-in")
        visit_pk = _visit(world)
        world.event(visit_pk, "visit.checked-in")
        with world.deliverer() as d:
            assert d.prepare() == 2
    kinds = [(d.subscription_pk is None, d.destination_pk is None) for d in world.deliveries()]
    assert sorted(kinds) == [(False, True), (True, False)]
