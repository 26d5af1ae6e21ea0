"""The built-in visit rules of ``POST /visits`` (spec section 7), beyond configured settings.

Pure (no I/O). One rule, one place: ``builtin_rules`` declares every built-in rule for a
schedule as a ``BuiltinRule`` -- the ``Validation`` that ``GET /visit-settings`` reports,
and the check ``POST /visits`` runs for it (by default ``rules.check`` of that very
validation, so what is reported is what is enforced). ``builtin_violations`` runs them.

Decisions:

- Age is counted in whole years on the appointment's local date; a 29 February birthday
  comes round on 1 March in common years.
- Age limit "older" with threshold T admits ages >= T (reported as ``minimum-age: T``);
  "younger" admits ages < T (``maximum-age: T - 1``), so the two directions at the same
  threshold split patients without overlap. Other directions, or a missing threshold,
  impose nothing.
- ``caregiver-name`` is required when the patient is 13 or younger on the appointment date
  (``when-attribute: birthdate, when-age-at-most: 13``).
- Age rules apply only to a valid birthdate; an invalid one is reported once, by itself.
- The body parser's own limits (yes/no answers, ``weeks-pregnant`` 0..45, text lengths) are
  reported too, so a form built from visit-settings never meets a rule it was not told of.
- Every violation is reported (one per attribute per rule); messages hold no patient data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from inquicker.booking.fields import YES_NO_FIELDS
from inquicker.booking.rules import Violation, age_on, check
from inquicker.booking.visit_input import (
    MAX_LENGTHS,
    MAX_TEXT,
    MAX_WEEKS_PREGNANT,
    TEXT_FIELDS,
)
from inquicker.booking.visit_settings import Validation, VisitSettings

__all__ = [
    "CAREGIVER_MAX_AGE",
    "FULL_ADDRESS",
    "GENDERS",
    "REQUIRED",
    "BuiltinRule",
    "RuleContext",
    "age_on",
    "builtin_rules",
    "builtin_validations",
    "builtin_violations",
    "reported_settings",
]

CAREGIVER_MAX_AGE = 13
GENDERS = ("female", "male")
# Listing more allowed appointment types than this would not help anyone read the message.
_MAX_LISTED = 10

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


def _text_limits() -> tuple[tuple[int, tuple[str, ...]], ...]:
    """The body parser's length limits, grouped by limit (reported so forms respect them)."""
    by_limit: dict[int, list[str]] = {}
    for name in sorted(TEXT_FIELDS):
        by_limit.setdefault(MAX_LENGTHS.get(name, MAX_TEXT), []).append(name)
    return tuple((limit, tuple(names)) for limit, names in sorted(by_limit.items()))


TEXT_LIMITS = _text_limits()

Values = Mapping[str, Any]


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


Enforce = Callable[[Validation, Values, RuleContext], list[Violation]]


@dataclass(frozen=True)
class BuiltinRule:
    """One built-in rule: what visit-settings reports, and how POST /visits enforces it."""

    validation: Validation
    # None: ``rules.check`` of ``validation`` itself. A custom check only keeps messages an
    # integrator already knows, and is never stricter than the reported validation.
    enforce: Enforce | None = None

    def violations(self, values: Values, ctx: RuleContext) -> list[Violation]:
        if self.enforce is not None:
            return self.enforce(self.validation, values, ctx)
        return check([self.validation], values, ctx.today, appointment_date=ctx.appointment_date)


def _rule(kind: str, *attributes: str, **params: Any) -> Validation:
    return Validation.model_validate({"kind": kind, "attributes": list(attributes), **params})


def _one_of(attribute: str, values: list[Any]) -> Validation:
    """Inclusion in ``values``; with none to choose from, "leave it out" (length 0), since
    an empty ``in`` would read as "anything"."""
    if not values:
        return _rule("length", attribute, maximum=0)
    return _rule("inclusion", attribute, **{"in": values})


def builtin_rules(
    offered_type_ids: tuple[str, ...],
    age_limit_direction: str | None,
    age_limit_threshold: int | None,
    features: frozenset[str],
    accepted_plan_ids: frozenset[str],
) -> list[BuiltinRule]:
    """Every built-in rule of a schedule, in the order they are reported and checked."""
    return list(
        _compiled(
            offered_type_ids, age_limit_direction, age_limit_threshold, features, accepted_plan_ids
        ).rules
    )


@dataclass(frozen=True)
class _Compiled:
    """A schedule's built-in rules, and the same rules as runs to check: consecutive rules
    checked by ``rules.check`` go to it together (one pass), custom checks alone."""

    rules: tuple[BuiltinRule, ...]
    runs: tuple[tuple[Validation, ...] | BuiltinRule, ...]


# Schedules sharing their offered types, age limit, features and plans share their rules:
# a few dozen sets in a health system. Building one validates some 20 pydantic models
# (about half a millisecond), so each set is built once per process, not per booking.
@lru_cache(maxsize=1024)
def _compiled(
    offered_type_ids: tuple[str, ...],
    age_limit_direction: str | None,
    age_limit_threshold: int | None,
    features: frozenset[str],
    accepted_plan_ids: frozenset[str],
) -> _Compiled:
    rules = _build(
        offered_type_ids, age_limit_direction, age_limit_threshold, features, accepted_plan_ids
    )
    runs: list[tuple[Validation, ...] | BuiltinRule] = []
    plain: list[Validation] = []
    for rule in rules:
        if rule.enforce is None:
            plain.append(rule.validation)
            continue
        if plain:
            runs.append(tuple(plain))
            plain = []
        runs.append(rule)
    if plain:
        runs.append(tuple(plain))
    return _Compiled(tuple(rules), tuple(runs))


def _build(
    offered_type_ids: tuple[str, ...],
    age_limit_direction: str | None,
    age_limit_threshold: int | None,
    features: frozenset[str],
    accepted_plan_ids: frozenset[str],
) -> list[BuiltinRule]:
    rules = [
        BuiltinRule(_rule("presence", *REQUIRED)),
        BuiltinRule(
            _rule("birthdate", "birthdate", **_age_limit(age_limit_direction, age_limit_threshold))
        ),
        BuiltinRule(_rule("email", "email")),
        BuiltinRule(_rule("phone", "phone-number")),
        BuiltinRule(_one_of("gender", list(GENDERS)), _gender),
    ]
    if offered_type_ids:
        rules += [
            BuiltinRule(_rule("presence", "appointment-type"), _appointment_type),
            BuiltinRule(_one_of("appointment-type", list(offered_type_ids)), _appointment_type),
        ]
    else:  # nothing to choose: the attribute must be left out
        rules.append(BuiltinRule(_one_of("appointment-type", []), _appointment_type))
    rules += [
        BuiltinRule(
            _rule(
                "presence",
                "caregiver-name",
                when_attribute="birthdate",
                when_age_at_most=CAREGIVER_MAX_AGE,
            )
        ),
        BuiltinRule(_rule("presence", "weeks-pregnant", when_attribute="pregnant", when_in=[True])),
        BuiltinRule(
            _rule(
                "numericality",
                "weeks-pregnant",
                only_integer=True,
                greater_than=-1,
                less_than=MAX_WEEKS_PREGNANT + 1,
            )
        ),
        BuiltinRule(_one_of("insurance-plan-permalink", sorted(accepted_plan_ids)), _accepted_plan),
        *(BuiltinRule(_one_of(field, [True, False])) for field in sorted(YES_NO_FIELDS)),
        *(BuiltinRule(_rule("length", *names, maximum=limit)) for limit, names in TEXT_LIMITS),
    ]
    rules += _feature_rules(features)
    return rules


def builtin_validations(
    offered_type_ids: tuple[str, ...],
    age_limit_direction: str | None,
    age_limit_threshold: int | None,
    features: frozenset[str],
    accepted_plan_ids: frozenset[str],
) -> list[Validation]:
    """What visit-settings reports of the built-in rules (see ``builtin_rules``)."""
    found = builtin_rules(
        offered_type_ids, age_limit_direction, age_limit_threshold, features, accepted_plan_ids
    )
    return [rule.validation for rule in found]


def builtin_violations(attributes: Values, ctx: RuleContext) -> list[Violation]:
    """Every violation of the built-in rules by a visit's normalised, dasherized attributes."""
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in attributes.items()}
    compiled = _compiled(
        ctx.offered_type_ids,
        ctx.age_limit_direction,
        ctx.age_limit_threshold,
        ctx.features,
        ctx.accepted_plan_ids,
    )
    found: list[Violation] = []
    for run in compiled.runs:
        if isinstance(run, BuiltinRule):
            found += run.violations(values, ctx)
        else:  # as BuiltinRule.violations would, one rule at a time, in order
            found += check(run, values, ctx.today, appointment_date=ctx.appointment_date)
    unique: dict[Violation, None] = dict.fromkeys(found)
    return list(unique)


def reported_settings(builtin: list[Validation], configured: VisitSettings) -> VisitSettings:
    """What visit-settings reports: the built-in rules, then the configured ones (a
    configured rule identical to a built-in one is not repeated)."""
    extra = [rule for rule in configured.validations if rule not in builtin]
    return configured.model_copy(update={"validations": [*builtin, *extra]})


# --- rule parameters -----------------------------------------------------------------------


def _age_limit(direction: str | None, threshold: int | None) -> dict[str, int]:
    if threshold is None:
        return {}
    if direction == "older":
        return {"minimum_age": threshold}
    if direction == "younger":
        return {"maximum_age": threshold - 1}
    return {}


def _feature_rules(features: frozenset[str]) -> list[BuiltinRule]:
    rules: list[BuiltinRule] = []
    if FEATURE_FULL_ADDRESS in features:
        rules.append(BuiltinRule(_rule("presence", *FULL_ADDRESS)))
    if FEATURE_HAS_PHYSICIAN in features:
        rules.append(BuiltinRule(_rule("presence", "has-physician")))
        rules.append(
            BuiltinRule(
                _rule(
                    "presence",
                    "primary-care-physician",
                    when_attribute="has-physician",
                    when_in=[True],
                )
            )
        )
    if FEATURE_PATIENT_COMPLAINT in features:
        rules.append(BuiltinRule(_rule("presence", "patient-complaint")))
    if FEATURE_INSURANCE in features:
        # A plan from the list, or a plan's name typed in: either answers the question.
        rules.append(
            BuiltinRule(
                _rule(
                    "presence",
                    "insurance-plan-permalink",
                    when_attribute="insurance-plan-name",
                    when_in=[None],
                )
            )
        )
    if FEATURE_PREGNANT in features:
        rules.append(
            BuiltinRule(_rule("presence", "pregnant", when_attribute="gender", when_in=["female"]))
        )
    return rules


# --- custom checks (messages integrators know) -------------------------------------------


def _given(values: Values, name: str) -> bool:
    value = values.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _gender(rule: Validation, values: Values, ctx: RuleContext) -> list[Violation]:
    # Case-insensitive: "Female" is an answer, though forms send the listed spelling.
    value = values.get("gender")
    if not _given(values, "gender") or (
        isinstance(value, str) and value.strip().casefold() in GENDERS
    ):
        return []
    message = f"gender must be one of: {', '.join(GENDERS)}."
    return [Violation("gender", "not-included", message)]


def _appointment_type(rule: Validation, values: Values, ctx: RuleContext) -> list[Violation]:
    offered = ctx.offered_type_ids
    if not _given(values, "appointment-type"):
        if offered and rule.kind == "presence":
            message = "appointment-type can't be blank: this schedule offers appointment types."
            return [Violation("appointment-type", "blank", message)]
        return []
    if rule.kind == "presence":
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


def _accepted_plan(rule: Validation, values: Values, ctx: RuleContext) -> list[Violation]:
    plan = values.get("insurance-plan-permalink")
    if not _given(values, "insurance-plan-permalink") or plan in ctx.accepted_plan_ids:
        return []
    message = "insurance-plan-permalink is not an insurance plan this schedule accepts."
    return [Violation("insurance-plan-permalink", "not-accepted", message)]
