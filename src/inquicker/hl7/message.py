"""SIU^S12/S13/S15/S26 messages for visit events, built with the ``hl7`` library.

Segments: MSH, SCH, PID, RGS, AIL, AIP (SPEC section 13). RGS is added because every SIU
message structure requires a resource group before its AIL/AIP segments; strict
receivers reject the message without it. Values go through the library's escaping, so a
``|`` or ``^`` in a patient's name cannot break the encoding.

The PID segment carries patient data: the message text is sent and never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import hl7

# Visit event type -> (SIU trigger event, SCH-25 filler status code (HL7 table 0278),
# resource segment action code (table 0206: A add, U update, D delete)).
TRIGGERS: dict[str, tuple[str, str, str]] = {
    "visit.booked": ("S12", "Booked", "A"),
    "visit.rescheduled": ("S13", "Booked", "U"),
    "visit.cancelled": ("S15", "Cancelled", "D"),
    "visit.no-show": ("S26", "Noshow", "U"),
}
SENDING_APPLICATION = "INQUICKER"
VERSION = "2.5.1"
_GENDERS = {"female": "F", "male": "M"}


def hl7_time(value: str | datetime | None) -> str:
    """An ISO 8601 time as an HL7 DTM with its UTC offset (20261203090000-0500)."""
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.strftime("%Y%m%d%H%M%S%z")


def hl7_date(value: Any) -> str:
    """An ISO 8601 date (or date-time) as an HL7 DT (YYYYMMDD); empty if absent."""
    text = str(value or "")
    return text[:10].replace("-", "") if len(text) >= 10 else ""


class _Builder:
    """Assigns escaped values into segments of one ``hl7.Message``."""

    def __init__(self) -> None:
        self.message = hl7.Message(separator="\r", sequence=[])

    def segment(self, name: str, fields: dict[int, str | tuple[str, ...]]) -> None:
        m = self.message
        if name == "MSH":
            # MSH-1 (field separator) and MSH-2 (encoding characters) are the delimiters.
            seg = m.create_segment(
                [m.create_field(["MSH"]), m.create_field(["|"]), m.create_field(["^~\\&"])]
            )
        else:
            seg = m.create_segment([m.create_field([name])])
        for number, value in sorted(fields.items()):
            if isinstance(value, tuple):
                if not any(value):
                    continue  # an absent composite stays empty, not "^^^"
                for component, part in enumerate(value, 1):
                    seg.assign_field(m.escape(part), number, 1, component)
            else:
                seg.assign_field(m.escape(value), number)
        m.append(seg)

    def text(self) -> str:
        return str(self.message)


def siu_message(
    *,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    patient: dict[str, Any],
    duration_minutes: int,
    sent_at: datetime,
) -> str:
    """The SIU message for one visit event (``\\r``-separated segments, unframed)."""
    trigger, filler_status, action = TRIGGERS[event_type]
    visit = payload["visit"]
    start = hl7_time(visit["appointment-at"])
    minutes = str(duration_minutes)
    b = _Builder()
    b.segment(
        "MSH",
        {
            3: SENDING_APPLICATION,
            4: str(payload.get("health-system") or ""),
            7: hl7_time(sent_at),
            9: ("SIU", trigger, "SIU_S12"),
            # The event id: the same on every retry, so the EHR can drop a duplicate.
            10: event_id,
            11: "P",
            12: VERSION,
        },
    )
    appointment_type = str(visit.get("appointment-type") or "")
    b.segment(
        "SCH",
        {
            1: str(visit["id"]),  # placer appointment id: the visit id
            2: str(visit["confirmation-number"]),  # filler appointment id
            6: (event_type,),
            8: (appointment_type,) if appointment_type else "",
            9: minutes,
            10: ("min",),
            11: ("", "", f"M{minutes}", start),  # TQ: duration, start date/time
            25: (filler_status,),
        },
    )
    b.segment("PID", _pid(visit, patient))
    b.segment("RGS", {1: "1", 2: action})
    location = str(visit.get("location") or "")
    provider = str(visit.get("provider") or "")
    b.segment("AIL", {1: "1", 2: action, 3: (location,), 6: start, 9: minutes, 10: ("min",)})
    b.segment("AIP", {1: "1", 2: action, 3: (provider,), 6: start, 9: minutes, 10: ("min",)})
    return b.text()


def _pid(visit: dict[str, Any], patient: dict[str, Any]) -> dict[int, str | tuple[str, ...]]:
    def text(name: str) -> str:
        value = patient.get(name)
        return "" if value is None else str(value)

    return {
        1: "1",
        # No medical record number is known here: the visit identifies the patient record.
        3: (str(visit["id"]), "", "", SENDING_APPLICATION, "VN"),
        5: (text("last-name"), text("first-name")),
        7: hl7_date(patient.get("birthdate")),
        8: _GENDERS.get(text("gender"), "U") if text("gender") else "",
        11: (text("address"), "", text("city"), text("state"), text("zip")),
        13: (text("phone-number"), "", "", text("email")),
    }
