"""Schedule management use cases: list, show, preview a change, save it with decisions.

A save re-checks the conflicts under the booking path's schedule lock, so a visit booked
after the preview is never dropped silently: it is listed, and the save refused until it
has a decision too. Cancelled visits go through booking's own cancel (seats freed, event
written); the change bumps the health system's data version and this process's
generation, so every process serves the new rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from inquicker.booking import service as booking
from inquicker.booking.repository import lock_visit
from inquicker.operators import audit
from inquicker.operators.visits import Caller
from inquicker.scheduling import repository
from inquicker.scheduling.changes import InvalidChangeError, Problem, ScheduleChange
from inquicker.scheduling.conflicts import Conflict, conflicts, rules_of
from inquicker.scheduling.repository import ScheduleState
from inquicker.tenancy.changes import mark_changed

KEEP, CANCEL = "keep", "cancel"
MAX_REASON = booking.MAX_REASON


@dataclass(frozen=True)
class Decision:
    action: str  # keep (as an overbooking) | cancel
    reason: str | None = None


class DecisionsRequiredError(Exception):
    """The change conflicts with booked visits that have no decision yet."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} booked visit(s) need a decision")
        self.conflicts = conflicts


@dataclass(frozen=True)
class Saved:
    state: ScheduleState
    kept: list[str]
    cancelled: list[str]


def parse_decisions(value: Any, base: str = "/meta/decisions") -> dict[str, Decision]:
    """``[{"visit": ID, "action": "keep"|"cancel", "reason": TEXT}]`` by visit id."""
    problems: list[Problem] = []
    out: dict[str, Decision] = {}
    if not isinstance(value, list):
        raise InvalidChangeError([Problem(400, "invalid", base, "Must be an array.")])
    for i, item in enumerate(value):
        at = f"{base}/{i}"
        if not isinstance(item, dict) or not isinstance(item.get("visit"), str):
            problems.append(Problem(400, "invalid", at, 'Must be {"visit": ID, "action": ...}.'))
            continue
        action, reason = item.get("action"), item.get("reason")
        if action not in (KEEP, CANCEL):
            problems.append(Problem(400, "invalid", at + "/action", "Must be keep or cancel."))
            continue
        if reason is not None and not isinstance(reason, str):
            problems.append(Problem(400, "invalid", at + "/reason", "Must be a string."))
            continue
        reason = (reason or "").strip() or None
        if action == CANCEL and reason is None:
            detail = "A cancellation needs a reason (the patient is told)."
            problems.append(Problem(422, "reason-required", at + "/reason", detail))
        elif reason is not None and len(reason) > MAX_REASON:
            detail = f"At most {MAX_REASON} characters."
            problems.append(Problem(422, "too-long", at + "/reason", detail))
        out[item["visit"]] = Decision(action, reason)
    if problems:
        raise InvalidChangeError(problems)
    return out


def schedules(session: Session, caller: Caller) -> list[Any]:
    """The operator's active schedules, by name."""
    return repository.schedules(session.connection(), caller.principal.health_system_pks)


def show(session: Session, caller: Caller, schedule_id: str) -> ScheduleState | None:
    return repository.load(session.connection(), schedule_id, caller.principal.health_system_pks)


def preview(
    session: Session, caller: Caller, schedule_id: str, change: ScheduleChange
) -> tuple[ScheduleState, list[Conflict]] | None:
    """The schedule and the booked visits the change would conflict with (None: not found)."""
    conn = session.connection()
    state = repository.load(conn, schedule_id, caller.principal.health_system_pks)
    if state is None:
        return None
    return state, _conflicts(session, caller, state, change)


def _conflicts(
    session: Session, caller: Caller, state: ScheduleState, change: ScheduleChange
) -> list[Conflict]:
    after = rules_of(state, change)  # raises for unknown or overlapping blocks
    since = int(caller.now.timestamp())
    visits = repository.booked_seats(session.connection(), state.pk, since)
    return conflicts(rules_of(state), after, visits)


def save(
    session: Session,
    caller: Caller,
    schedule_id: str,
    change: ScheduleChange,
    decisions: Mapping[str, Decision],
) -> Saved | None:
    """Apply the change, keeping or cancelling each conflicting visit as decided.

    Raises DecisionsRequiredError (nothing written) when a conflicting visit has no decision.
    """
    conn = session.connection()
    hs_pks = caller.principal.health_system_pks
    state = repository.load(conn, schedule_id, hs_pks, lock=True)
    if state is None:
        return None
    found = _conflicts(session, caller, state, change)
    undecided = [c for c in found if c.visit.visit_id not in decisions]
    if undecided:
        raise DecisionsRequiredError(found)
    kept: list[str] = []
    cancelled: list[str] = []
    records: list[audit.Record] = []
    for conflict in found:
        decision = decisions[conflict.visit.visit_id]
        if decision.action == KEEP:
            kept.append(conflict.visit.visit_id)
            continue
        visit = lock_visit(conn, conflict.visit.pk)
        booking.cancel(
            conn,
            visit,
            reason=decision.reason,
            now=caller.now,
            actor=booking.Actor(operator=True),
            cutoff_minutes=0,
        )
        cancelled.append(conflict.visit.visit_id)
        records.append(
            _record(
                caller,
                "visit.cancel",
                state,
                conflict.visit.visit_id,
                {
                    "from": "booked",
                    "to": "cancelled",
                    "schedule-change": True,
                    "reason-given": True,
                },
            )
        )
    repository.save(conn, state, change)
    repository.bump_data_version(conn, state.health_system_pk)
    mark_changed(session)  # this process serves the change at once (tenancy/changes.py)
    details: dict[str, Any] = {
        "schedule": state.id,
        "changed": change.changed(),
        "kept": kept,
        "cancelled": cancelled,
        **_values(state, change),
    }
    records.append(_record(caller, "schedule.change", state, None, details))
    audit.write(conn, caller.now, *records)
    after = repository.load(conn, schedule_id, hs_pks)
    assert after is not None
    return Saved(after, kept, cancelled)


def _record(
    caller: Caller, action: str, state: ScheduleState, visit_id: str | None, details: dict[str, Any]
) -> audit.Record:
    return audit.Record(
        caller.principal.email,
        action,
        state.health_system_pk,
        visit_id,
        False,
        caller.client,
        details,
    )


def _values(state: ScheduleState, change: ScheduleChange) -> dict[str, Any]:
    """What changed, without free text (a block's reason might name a patient)."""
    out: dict[str, Any] = {}
    for name, old, new in (
        ("capacity", state.capacity, change.capacity),
        ("slot-minutes", state.slot_minutes, change.slot_minutes),
        ("lead-minutes", state.lead_minutes, change.lead_minutes),
    ):
        if new is not None:
            out[name] = {"from": old, "to": new}
    if change.add_blocks:
        out["blocks-added"] = [
            [b.starts_at.isoformat(), b.ends_at.isoformat()] for b in change.add_blocks
        ]
    if change.remove_blocks:
        out["blocks-removed"] = [str(pk) for pk in change.remove_blocks]
    if change.add_exceptions or change.remove_exceptions:
        out["exception-dates"] = sorted(
            {d.isoformat() for d in change.remove_exceptions}
            | {e.on_date.isoformat() for e in change.add_exceptions}
        )
    return out
