"""The built-in visit rules of ``POST /visits`` (spec section 7), beyond configured settings.

Pure (no I/O). Generic checks (presence, email, phone, birthdate) reuse ``rules.check`` so
both speak the same codes and messages; the rest depends on the schedule (``RuleContext``).

Decisions:

- Age is counted in whole years on the appointment's local date; a 29 February birthday
  comes round on 1 March in common years.
- Age limit "older" with threshold T admits ages >= T; "younger" admits ages < T, so the
  two directions at the same threshold split patients without overlap. Other directions,
  or a missing threshold, impose nothing.
- ``caregiver-name`` is required when the patient is 13 or younger on the appointment date.
- Age rules apply only to a valid birthdate; an invalid one is reported once, by itself.
- Every violation is reported (one per attribute per rule); messages hold no patient data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from inquicker.booking.rules import Violation, check, parse_birthdate
from inquicker.booking.visit_settings import Validation

CAREGIVER_MAX_AGE = 13
GENDERS = ("female", "male")
# Listing more allowed appointment types than this would not help anyone read the message.
_MAX_LISTED = 10
_YES = frozenset({"yes", "true", "1"})

# Health-system features (``HealthSystem.features``) that switch on more rules.
FEATURE_FULL_ADDRESS = "full-address"
FEATURE_HAS_PHYSICIAN = "has-physician"
FEATURE_PATIENT_COMPLAINT = "patient-complaint"
FEATURE_INSURANCE = "insurance"
FEATURE_PREGNANT = "pregnant"

REQUIRED = (
    "appointment-at",
    "birthdate",
    "email",
    "first-name",
    "last-name",
    "gender",
    "new-patient",
    "phone-number",
)
FULL_ADDRESS = ("address", "city", "state", "zip")


def _rule(kind: str, *attributes: str) -> Validation:
    return Validation.model_validate({"kind": kind, "attributes": list(attributes)})


_ALWAYS = (
    _rule("presence", *REQUIRED),
    _rule("birthdate", "birthdate"),
    _rule("email", "email"),
    _rule("phone", "phone-number"),
)
_FULL_ADDRESS = (_rule("presence", *FULL_ADDRESS),)
_PATIENT_COMPLAINT = (_rule("presence", "patient-complaint"),)
_HAS_PHYSICIAN = (_rule("presence", "has-physician"),)


@dataclass(frozen=True)
class RuleContext:
    """What the built-in rules need to know about the schedule and the day."""

    offered_type_ids: tuple[str, ...]
    age_limit_direction: str | None
    age_limit_threshold: int | None
    appointment_date: date
    today: date
    features: frozenset[str]
    accepted_plan_ids: frozenset[str]


def builtin_violations(attributes: Mapping[str, Any], ctx: RuleContext) -> list[Violation]:
    """Every violation of the built-in rules by a visit's normalised, dasherized attributes."""
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in attributes.items()}
    found = check(_ALWAYS, values, ctx.today)
    found += _gender(values)
    found += _appointment_type(values, ctx)
    if not any(v.attribute == "birthdate" for v in found):
        found += _age_rules(values, ctx)
    if _given(values, "pregnant") and _is_yes(values["pregnant"]):
        found += _required(values, "weeks-pregnant", "when pregnant is yes")
    plan = values.get("insurance-plan-permalink")
    if _given(values, "insurance-plan-permalink") and plan not in ctx.accepted_plan_ids:
        message = "insurance-plan-permalink is not an insurance plan this schedule accepts."
        found.append(Violation("insurance-plan-permalink", "not-accepted", message))
    found += _feature_rules(values, ctx.features)
    unique: dict[Violation, None] = dict.fromkeys(found)
    return list(unique)


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- the rules -----------------------------------------------------------------------------


def _given(values: Mapping[str, Any], name: str) -> bool:
    value = values.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _is_yes(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().casefold() in _YES


def _required(values: Mapping[str, Any], name: str, when: str) -> list[Violation]:
    if _given(values, name):
        return []
    return [Violation(name, "blank", f"{name} can't be blank {when}.")]


def _gender(values: Mapping[str, Any]) -> list[Violation]:
    value = values.get("gender")
    if not _given(values, "gender") or _is_female(value) or _is_male(value):
        return []
    message = f"gender must be one of: {', '.join(GENDERS)}."
    return [Violation("gender", "not-included", message)]


def _is_female(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() == "female"


def _is_male(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() == "male"


def _appointment_type(values: Mapping[str, Any], ctx: RuleContext) -> list[Violation]:
    offered = ctx.offered_type_ids
    if not _given(values, "appointment-type"):
        if offered:
            message = "appointment-type can't be blank: this schedule offers appointment types."
            return [Violation("appointment-type", "blank", message)]
        return []
    value = values["appointment-type"]
    if isinstance(value, str) and value.strip() in offered:
        return []
    if not offered:
        message = "appointment-type must be left out: this schedule offers no appointment types."
    elif len(offered) <= _MAX_LISTED:
        message = f"appointment-type is not offered by this schedule: {', '.join(offered)}."
    else:
        message = "appointment-type is not offered by this schedule."
    return [Violation("appointment-type", "not-included", message)]


def _birth_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_birthdate(value) if isinstance(value, str) else None


def _age_rules(values: Mapping[str, Any], ctx: RuleContext) -> list[Violation]:
    born = _birth_date(values.get("birthdate"))
    if born is None:
        return []
    age = age_on(born, ctx.appointment_date)
    found = []
    threshold = ctx.age_limit_threshold
    if threshold is not None:
        if ctx.age_limit_direction == "older" and age < threshold:
            message = f"The patient must be {threshold} or older on the appointment date."
            found.append(Violation("birthdate", "age-limit", message))
        elif ctx.age_limit_direction == "younger" and age >= threshold:
            message = f"The patient must be younger than {threshold} on the appointment date."
            found.append(Violation("birthdate", "age-limit", message))
    if age <= CAREGIVER_MAX_AGE:
        when = f"for a patient {CAREGIVER_MAX_AGE} or younger"
        found += _required(values, "caregiver-name", when)
    return found


def _feature_rules(values: Mapping[str, Any], features: frozenset[str]) -> list[Violation]:
    found: list[Violation] = []
    if FEATURE_FULL_ADDRESS in features:
        found += check(_FULL_ADDRESS, values, date.min)
    if FEATURE_HAS_PHYSICIAN in features:
        found += check(_HAS_PHYSICIAN, values, date.min)
        if _given(values, "has-physician") and _is_yes(values["has-physician"]):
            found += _required(values, "primary-care-physician", "when has-physician is yes")
    if FEATURE_PATIENT_COMPLAINT in features:
        found += check(_PATIENT_COMPLAINT, values, date.min)
    if FEATURE_INSURANCE in features and not (
        _given(values, "insurance-plan-permalink") or _given(values, "insurance-plan-name")
    ):
        message = "insurance-plan-permalink (or insurance-plan-name) can't be blank."
        found.append(Violation("insurance-plan-permalink", "blank", message))
    if FEATURE_PREGNANT in features and _is_female(values.get("gender")):
        found += _required(values, "pregnant", "for a female patient")
    return found
