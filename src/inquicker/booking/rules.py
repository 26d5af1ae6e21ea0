"""Visit validation rules: the one place that says what a visit's attributes must satisfy.

Pure (no I/O): ``GET /visit-settings`` advertises these rules through ``to_api_objects``
and ``POST /visits`` enforces them through ``check``, so the two cannot drift apart.

Semantics, following Rails' validators where that serves integrators:

- A ``null`` attribute counts as not given, and so does a blank (whitespace-only) string.
  Only ``presence`` fails on an absent value; every other kind skips it, so "optional but
  well-formed if given" needs no extra parameter. Two parameters opt out of the skip:
  ``acceptance`` with ``allow_nil: false`` and ``format`` with ``allow_blank: false``
  check absent values too (an absent value then fails unless the pattern matches "").
- Values may be strings, numbers or booleans; rules look at their string form
  (``true`` -> ``"true"``, ``2.0`` -> ``"2"``). Unlike Rails, ``false`` is present:
  "no" is an answer.
- ``format`` uses ``re.search``, as Rails' ``=~`` does: a pattern constrains the whole
  value only when it is anchored (``^...$`` or ``\\A...\\z``). Ruby's ``\\z`` and ``\\h``
  are accepted and translated. Patterns come from operators, not the public; each is
  compiled once.
- Messages name the attribute and the rule, never the submitted value (patient data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from inquicker.booking.visit_settings import Validation, VisitSettings

# A checked box sends "1" (the reference's default `accept`); "true", "yes" and JSON true
# are the same answer, so accepting "1" accepts them all.
DEFAULT_ACCEPT = "1"
TRUTHY: frozenset[str] = frozenset({"1", "true", "yes"})
FALSY: frozenset[str] = frozenset({"0", "false", "no"})
# Reserved top-level domains (RFC 2606, RFC 6761): never a patient's real mailbox, so an
# address there is a typo or a test, refused without any network lookup.
RESERVED_TLDS = frozenset({"invalid", "test", "example", "localhost"})
# Older than this is a typo (e.g. 1894 for 1994), not a patient.
MAX_AGE_YEARS = 130
PHONE_DELIMITERS = " ()-.+"
# Inclusion messages list the allowed values only while that stays readable.
_MAX_LISTED = 10

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].+)?")
_EMAIL = re.compile(
    r"(?P<local>[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*)"
    r"@(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{1,59}))"
)
# Ruby spellings with no Python equivalent, when not themselves escaped.
_RUBY_END = re.compile(r"(?<!\\)((?:\\\\)*)\\z")
_RUBY_HEX = re.compile(r"(?<!\\)((?:\\\\)*)\\h")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the dasherized attribute, a stable code and a value-free message."""

    attribute: str
    code: str
    message: str


class _NotScalarError(Exception):
    """A value that is not a string, number or boolean (e.g. a JSON object)."""


def effective_settings(health_system: VisitSettings, schedule: VisitSettings) -> VisitSettings:
    """A schedule's settings: its validations after the health system's, its other values
    over the health system's."""
    validations = list(health_system.validations)
    for rule in schedule.validations:
        # An identical rule at both levels would only be reported and enforced twice.
        if rule not in validations:
            validations.append(rule)

    def pick(own: Any, inherited: Any) -> Any:
        return own if own is not None else inherited

    return VisitSettings(
        validations=validations,
        enabled_fields=pick(schedule.enabled_fields, health_system.enabled_fields),
        patient_instructions=pick(
            schedule.patient_instructions, health_system.patient_instructions
        ),
        preregistration_form_url=pick(
            schedule.preregistration_form_url, health_system.preregistration_form_url
        ),
        screening_questions_url=pick(
            schedule.screening_questions_url, health_system.screening_questions_url
        ),
    )


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled ``format`` pattern (cached); raises ``re.error`` when it is invalid."""
    return _compile(pattern)


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    translated = _RUBY_END.sub(r"\1\\Z", pattern)
    translated = _RUBY_HEX.sub(r"\1[0-9a-fA-F]", translated)
    return re.compile(translated)


def settings_problems(settings: VisitSettings) -> list[str]:
    """Configuration mistakes in visit settings (for import-time validation), one line each."""
    problems: list[str] = []
    for index, rule in enumerate(settings.validations):
        where = f"validations[{index}] ({rule.kind})"
        if rule.kind == "format":
            if rule.with_ is None:
                problems.append(f"{where}: 'with' (a regular expression) is required.")
            else:
                try:
                    compile_pattern(rule.with_)
                except re.error as exc:
                    problems.append(f"{where}: 'with' is not a valid regular expression: {exc}.")
        elif rule.kind == "inclusion" and not rule.in_:
            problems.append(f"{where}: 'in' (the allowed values) is required.")
        elif rule.kind == "length":
            if rule.is_ is None and rule.minimum is None and rule.maximum is None:
                problems.append(f"{where}: one of 'is', 'minimum', 'maximum' is required.")
            if rule.is_ is not None and (rule.minimum is not None or rule.maximum is not None):
                problems.append(f"{where}: 'is' excludes 'minimum' and 'maximum'.")
            low, high = rule.minimum, rule.maximum
            if low is not None and high is not None and low > high:
                problems.append(f"{where}: 'minimum' exceeds 'maximum'.")
        elif rule.kind == "numericality":
            above, below = rule.greater_than, rule.less_than
            if above is not None and below is not None and above >= below:
                problems.append(f"{where}: 'greater_than' must be below 'less_than'.")
        problems += _condition_problems(rule, where)
    return problems


def _condition_problems(rule: Validation, where: str) -> list[str]:
    problems = []
    if rule.minimum_age is not None or rule.maximum_age is not None:
        problems.append(
            f"{where}: 'minimum_age'/'maximum_age' are reported for the schedule's age "
            "limit; set the schedule's age_limit instead."
        )
    if rule.when_age_at_most is not None:
        problems.append(f"{where}: 'when_age_at_most' is reserved for the built-in rules.")
    if (rule.when_attribute is None) != (rule.when_in is None):
        problems.append(f"{where}: 'when_attribute' and 'when_in' go together.")
    return problems


def check(
    validations: Sequence[Validation],
    attributes: Mapping[str, Any],
    today: date,
    *,
    appointment_date: date | None = None,
) -> list[Violation]:
    """Every violation of ``validations`` by a visit's (dasherized) ``attributes``, in rule
    order, without duplicates. Ages count on ``appointment_date`` (default: today)."""
    days = Days(today, appointment_date or today)
    found: dict[Violation, None] = {}
    for rule in validations:
        if not applies(rule, attributes, days):
            continue
        checker = _CHECKERS[rule.kind]
        for name in rule.attributes:
            attribute = _dasherize(name)
            try:
                text = _as_text(attributes.get(attribute))
            except _NotScalarError:
                message = f"{attribute} must be a string, a number or a boolean."
                found[Violation(attribute, "invalid-type", message)] = None
                continue
            blank = text is None or not text.strip()
            if blank and _skips_blank(rule):
                continue
            violation = checker(rule, attribute, None if blank else text, days)
            if violation is not None:
                found[violation] = None
    return list(found)


def applies(rule: Validation, attributes: Mapping[str, Any], days: Days) -> bool:
    """Whether a rule's condition (if any) holds for these attributes."""
    if rule.when_attribute is None:
        return True
    value = attributes.get(_dasherize(rule.when_attribute))
    if rule.when_age_at_most is not None:
        born = _born(value)
        # An invalid birthdate (not before today) is reported by itself, once.
        if born is None or born >= days.today:
            return False
        return age_on(born, days.appointment) <= rule.when_age_at_most
    if rule.when_in is not None:
        yes_no = any(isinstance(v, bool) for v in rule.when_in)
        return _key(value, yes_no) in {_key(v, yes_no) for v in rule.when_in}
    return True


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _born(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_birthdate(value) if isinstance(value, str) else None


def _key(value: object, yes_no: bool = False) -> str | None:
    """How a value compares with a rule's listed values: its text, case-insensitive (for a
    yes/no list, every spelling of yes as "true" and of no as "false"); None when not
    given."""
    try:
        text = _as_text(value)
    except _NotScalarError:
        return "\x00"  # an object or list matches no listed value
    if text is None or not text.strip():
        return None
    word = text.strip().casefold()
    if yes_no and word in TRUTHY:
        return "true"
    if yes_no and word in FALSY:
        return "false"
    return word


def to_api_objects(settings: VisitSettings, schedule_id: str) -> list[dict[str, Any]]:
    """The JSON:API resource objects of ``GET /visit-settings/{schedule_id}``.

    An id is the schedule id plus a name derived from the object's content (kind and
    attributes for a validation), so the same settings give the same ids on every request
    and (type, id) never names two different things across schedules.
    """
    objects: list[tuple[str, str, dict[str, Any]]] = []
    for rule in settings.validations:
        attrs = [_dasherize(a) for a in rule.attributes]
        local = f"validation-{rule.kind}-{'+'.join(attrs)}"
        objects.append(
            ("validation", local, {"kind": rule.kind, "attributes": attrs, **_api_params(rule)})
        )
    if settings.enabled_fields is not None:
        fields = [_dasherize(f) for f in settings.enabled_fields]
        objects.append(("enabled-fields", "enabled-fields", {"fields": fields}))
    singles = (
        ("patient-instructions", "text", settings.patient_instructions),
        ("preregistration-form", "url", settings.preregistration_form_url),
        ("screening-questions", "url", settings.screening_questions_url),
    )
    for type_, key, value in singles:
        if value is not None:
            objects.append((type_, type_, {key: value}))

    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for type_, local, attributes in objects:
        id_ = f"{schedule_id}-{local}"
        suffix = 1
        # The n-th rule of the same kind on the same attributes is "-n", in settings order.
        while id_ in seen:
            suffix += 1
            id_ = f"{schedule_id}-{local}-{suffix}"
        seen.add(id_)
        out.append({"type": type_, "id": id_, "attributes": attributes})
    return out


# --- advertising ---------------------------------------------------------------------------


def _api_params(rule: Validation) -> dict[str, Any]:
    """The rule's parameters as the API shows them: dasherized, with the defaults this
    module applies spelled out so a form can mirror them."""
    params: dict[str, Any] = {}
    if rule.kind == "acceptance":
        params["accept"] = DEFAULT_ACCEPT
        params["allow_nil"] = rule.allow_nil is not False
    elif rule.kind == "format":
        params["allow_blank"] = rule.allow_blank is not False
    params.update(rule.params())
    accept = params.get("accept")
    if isinstance(accept, list) and len(accept) == 1:
        params["accept"] = accept[0]  # the reference's form: one string
    if rule.when_attribute is not None:
        params["when_attribute"] = _dasherize(rule.when_attribute)
    return {_dasherize(k): _plain_number(v) for k, v in params.items()}


def _plain_number(value: Any) -> Any:
    # Bounds are floats once parsed; "greater-than": 0 reads better than 0.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Days:
    """The dates a check depends on: today (the patient's local date) and the visit's."""

    today: date
    appointment: date


Checker = Callable[[Validation, str, str | None, Days], Violation | None]


def _dasherize(name: str) -> str:
    return name.replace("_", "-")


def _as_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise _NotScalarError


def _skips_blank(rule: Validation) -> bool:
    if rule.kind == "presence":
        return False
    if rule.kind == "acceptance":
        return rule.allow_nil is not False
    if rule.kind == "format":
        return rule.allow_blank is not False
    return True


def _presence(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    if text is None:
        return Violation(attribute, "blank", f"{attribute} can't be blank{_when(rule)}.")
    return None


def _when(rule: Validation) -> str:
    """A condition in words, for messages: " when pregnant is yes"."""
    if rule.when_attribute is None:
        return ""
    other = _dasherize(rule.when_attribute)
    if rule.when_age_at_most is not None:
        return f" for a patient {rule.when_age_at_most} or younger"
    spelled = [_spell(v) for v in rule.when_in or ()]
    return f" when {other} is {' or '.join(spelled)}"


def _spell(value: object) -> str:
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _acceptance(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    given = rule.accept if rule.accept is not None else DEFAULT_ACCEPT
    accepted = {a.strip().casefold() for a in ([given] if isinstance(given, str) else given)}
    if accepted & TRUTHY:
        accepted |= TRUTHY
    if text is None or text.strip().casefold() not in accepted:
        return Violation(attribute, "not-accepted", f"{attribute} must be accepted.")
    return None


def _format(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    if rule.with_ is None:
        return None
    if compile_pattern(rule.with_).search(text or "") is None:
        return Violation(attribute, "invalid-format", f"{attribute} is not in the expected format.")
    return None


def _inclusion(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    allowed = rule.in_
    # Compared as text, so a boolean rule value matches a parsed yes/no answer (and, as
    # the body parser reads them, the other spellings of yes and no).
    if not allowed:
        return None
    if any(isinstance(v, bool) for v in allowed):
        if _key(text, True) in {_key(v, True) for v in allowed}:
            return None
    elif text in {_as_text(v) for v in allowed}:
        return None
    shown = [_spell(v) for v in allowed]
    listed = f": {', '.join(shown)}" if len(allowed) <= _MAX_LISTED else ""
    return Violation(
        attribute, "not-included", f"{attribute} is not one of the allowed values{listed}."
    )


def _length(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    size = len(text or "")
    if rule.is_ is not None and size != rule.is_:
        return Violation(
            attribute, "wrong-length", f"{attribute} must be exactly {rule.is_} characters long."
        )
    if rule.minimum is not None and size < rule.minimum:
        return Violation(
            attribute, "too-short", f"{attribute} must be at least {rule.minimum} characters long."
        )
    if rule.maximum is not None and size > rule.maximum:
        return Violation(
            attribute, "too-long", f"{attribute} must be at most {rule.maximum} characters long."
        )
    return None


def _numericality(
    rule: Validation, attribute: str, text: str | None, days: Days
) -> Violation | None:
    raw = (text or "").strip()
    if not _NUMBER.fullmatch(raw):
        return Violation(attribute, "not-a-number", f"{attribute} must be a number.")
    if rule.only_integer and not _INTEGER.fullmatch(raw):
        return Violation(attribute, "not-an-integer", f"{attribute} must be a whole number.")
    # Decimal compares exactly with the float bounds and never overflows to infinity.
    number = Decimal(raw)
    low, high = rule.greater_than, rule.less_than
    if low is not None and not number > Decimal(low):
        shown = _plain_number(low)
        return Violation(
            attribute, "not-greater-than", f"{attribute} must be greater than {shown}."
        )
    if high is not None and not number < Decimal(high):
        shown = _plain_number(high)
        return Violation(attribute, "not-less-than", f"{attribute} must be less than {shown}.")
    return None


def _email(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    raw = (text or "").strip()
    match = _EMAIL.fullmatch(raw)
    # RFC 5321 limits: 64 for the local part, 254 for the whole address.
    if match is None or len(match["local"]) > 64 or len(raw) > 254:
        return Violation(attribute, "invalid-email", f"{attribute} is not a valid email address.")
    if match["domain"].rsplit(".", 1)[-1].casefold() in RESERVED_TLDS:
        message = (
            f"{attribute} is at a reserved domain (.invalid, .test, .example, .localhost) "
            "that receives no mail."
        )
        return Violation(attribute, "invalid-email", message)
    return None


def phone_digits(text: str) -> str | None:
    """The 10 North American digits of a phone number, or None when it is not one."""
    digits = "".join(c for c in text if c not in PHONE_DELIMITERS)
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def _phone(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    if phone_digits(text or "") is None:
        message = f"{attribute} must be a 10-digit North American phone number."
        return Violation(attribute, "invalid-phone", message)
    return None


def parse_birthdate(text: str) -> date | None:
    """The calendar date of an ISO 8601 date or date-time (as written), or None."""
    raw = text.strip()
    if not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return datetime.fromisoformat(raw).date()
    except ValueError:
        return None


def _birthdate(rule: Validation, attribute: str, text: str | None, days: Days) -> Violation | None:
    born = parse_birthdate(text or "")
    if born is None:
        return Violation(
            attribute, "invalid-birthdate", f"{attribute} must be an ISO 8601 date (YYYY-MM-DD)."
        )
    if born >= days.today:
        return Violation(attribute, "invalid-birthdate", f"{attribute} must be before today.")
    if born < _years_before(days.today, MAX_AGE_YEARS):
        message = f"{attribute} is more than {MAX_AGE_YEARS} years ago."
        return Violation(attribute, "invalid-birthdate", message)
    age = age_on(born, days.appointment)
    if rule.minimum_age is not None and age < rule.minimum_age:
        message = f"The patient must be {rule.minimum_age} or older on the appointment date."
        return Violation(attribute, "age-limit", message)
    if rule.maximum_age is not None and age > rule.maximum_age:
        message = (
            f"The patient must be younger than {rule.maximum_age + 1} on the appointment date."
        )
        return Violation(attribute, "age-limit", message)
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year - years, day=28)


_CHECKERS: dict[str, Checker] = {
    "acceptance": _acceptance,
    "birthdate": _birthdate,
    "email": _email,
    "format": _format,
    "inclusion": _inclusion,
    "length": _length,
    "numericality": _numericality,
    "presence": _presence,
    "phone": _phone,
}
