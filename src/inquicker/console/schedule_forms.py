"""Console forms to schedule-change attributes (the operator API's), so both faces share
one parser and one set of error messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _text(form: Any, name: str) -> str:
    return str(form.get(name, "")).strip()[:200]


def _local(on: str, clock: str, zone: str) -> str:
    """A local date and time on the schedule's clock as an ISO instant with its offset;
    what cannot be read is passed on as is, for the parser to point at."""
    try:
        moment = datetime.fromisoformat(f"{on}T{clock}").replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        return f"{on}T{clock}"
    return moment.isoformat()


def _int(value: str) -> Any:
    # The parser answers "must be an integer" for what is not one.
    return int(value) if value.lstrip("-").isdigit() and len(value) < 12 else value


def attributes(form: Any, time_zone: str) -> dict[str, Any]:
    """The change one console form asks for (``kind`` says which form)."""
    kind = _text(form, "kind")
    if kind == "block":
        on = _text(form, "date")
        block = {
            "starts-at": _local(on, _text(form, "from"), time_zone),
            "ends-at": _local(on, _text(form, "to"), time_zone),
        }
        reason = _text(form, "reason")
        if reason:
            block["reason"] = reason
        return {"add-blocks": [block]}
    if kind == "remove-block":
        return {"remove-blocks": [_text(form, "block")]}
    if kind == "exception":
        entry: dict[str, Any] = {"date": _text(form, "date")}
        if not form.get("closed"):
            entry["opens"], entry["closes"] = _text(form, "opens"), _text(form, "closes")
        return {"add-exceptions": [entry]}
    if kind == "remove-exception":
        return {"remove-exceptions": [_text(form, "date")]}
    if kind == "weekly":
        hours = []
        for weekday in range(7):
            for part in _text(form, f"day-{weekday}").split(","):
                if part.strip():
                    opens, _, closes = part.strip().partition("-")
                    hours.append(
                        {"weekday": weekday, "opens": opens.strip(), "closes": closes.strip()}
                    )
        return {"weekly-hours": hours}
    if kind == "settings":
        return {
            name: _int(_text(form, name))
            for name in ("capacity", "slot-minutes", "lead-minutes")
            if _text(form, name)
        }
    return {}


def weekly_text(weekly: tuple[tuple[int, Any, Any], ...]) -> list[str]:
    """Each weekday's ranges as the weekly form shows them: "08:00-12:00, 13:00-17:00"."""
    out: list[list[str]] = [[] for _ in range(7)]
    for weekday, opens, closes in weekly:
        end = (
            "24:00"
            if (closes.hour, closes.minute, closes.second) == (23, 59, 59)
            else f"{closes:%H:%M}"
        )
        out[weekday].append(f"{opens:%H:%M}-{end}")
    return [", ".join(parts) for parts in out]


def decisions(form: Any, visit_ids: list[str]) -> list[dict[str, Any]]:
    """The keep/cancel choice and reason the preview form sent for each listed visit."""
    out = []
    for visit_id in visit_ids:
        action = _text(form, f"decision-{visit_id}")
        if action:
            out.append(
                {"visit": visit_id, "action": action, "reason": _text(form, f"reason-{visit_id}")}
            )
    return out
