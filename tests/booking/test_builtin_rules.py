"""The built-in visit rules: always-on requirements, schedule-dependent and feature rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inquicker.booking.builtin_rules import (
    REQUIRED,
    RuleContext,
    age_on,
    builtin_violations,
)
from inquicker.booking.rules import Violation
from inquicker.booking.visit_input import parse_visit_body
from tests.booking.test_visit_input import WALK_THROUGH

TODAY = date(2026, 3, 15)
ALL_FEATURES = frozenset(
    {"full-address", "has-physician", "patient-complaint", "insurance", "pregnant"}
)

CTX = RuleContext(
    offered_type_ids=(),
    age_limit_direction=None,
    age_limit_threshold=None,
    appointment_date=date(2026, 3, 20),
    today=TODAY,
    features=frozenset(),
    accepted_plan_ids=frozenset({"blue-cross", "aetna"}),
)

VALID: dict[str, Any] = {
    "appointment-at": "2026-03-20T13:00:00-04:00",
    "birthdate": "1985-06-15",
    "email": "pat@example.com",
    "first-name": "Pat",
    "last-name": "Smith",
    "gender": "female",
    "new-patient": True,
    "phone-number": "(615) 555-0100",
}


def violations(ctx: RuleContext = CTX, /, **changes: Any) -> list[tuple[str, str]]:
    """(attribute, code) of the violations of VALID with changes (None removes a key)."""
    attrs = dict(VALID)
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            attrs.pop(name, None)
        else:
            attrs[name] = value
    return [(v.attribute, v.code) for v in builtin_violations(attrs, ctx)]


def test_a_complete_visit_has_no_violations() -> None:
    assert violations() == []


def test_the_walk_through_body_passes_every_rule_with_every_feature() -> None:
    visit, problems = parse_visit_body(WALK_THROUGH)
    assert problems == []
    ctx = replace(CTX, offered_type_ids=("annual-physical",), features=ALL_FEATURES)
    assert builtin_violations(visit.attributes, ctx) == []


# --- always required -----------------------------------------------------------------------


def test_an_empty_visit_reports_every_required_attribute_together() -> None:
    found = builtin_violations({}, CTX)
    assert [(v.attribute, v.code) for v in found] == [(name, "blank") for name in REQUIRED]
    assert found[0] == Violation("appointment-at", "blank", "appointment-at can't be blank.")


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_each_required_attribute_is_blank_when_absent(name: str, value: Any) -> None:
    attrs = {**VALID, name: value}
    assert [(v.attribute, v.code) for v in builtin_violations(attrs, CTX)] == [(name, "blank")]


def test_no_is_an_answer_for_new_patient() -> None:
    assert violations(new_patient=False) == []


@pytest.mark.parametrize("email", ["pat", "pat@", "pat@example", "a b@example.com"])
def test_email_must_be_valid(email: str) -> None:
    assert violations(email=email) == [("email", "invalid-email")]


@pytest.mark.parametrize("phone", ["555-0100", "+44 20 7946 0958", "615555010x", "2-615-555-0100"])
def test_phone_must_be_ten_north_american_digits(phone: str) -> None:
    assert violations(phone_number=phone) == [("phone-number", "invalid-phone")]


@pytest.mark.parametrize("phone", ["6155550100", "1 (615) 555-0100", "+1 615.555.0100"])
def test_north_american_phone_spellings_pass(phone: str) -> None:
    assert violations(phone_number=phone) == []


@pytest.mark.parametrize("gender", ["female", "male", "Female", "MALE", " male "])
def test_gender_is_female_or_male_in_any_case(gender: str) -> None:
    assert violations(gender=gender) == []


@pytest.mark.parametrize("gender", ["f", "m", "other", "woman"])
def test_other_genders_are_not_included(gender: str) -> None:
    assert violations(gender=gender) == [("gender", "not-included")]


@pytest.mark.parametrize("born", ["2026-03-15", "2026-03-16", "2030-01-01", "1890-01-01"])
def test_birthdate_must_be_before_today_and_plausible(born: str) -> None:
    assert violations(birthdate=born) == [("birthdate", "invalid-birthdate")]


def test_birthdate_may_be_a_date_object() -> None:
    assert violations(birthdate=date(1985, 6, 15)) == []
    assert violations(birthdate=date(2027, 1, 1)) == [("birthdate", "invalid-birthdate")]


def test_an_unparseable_birthdate_is_invalid_once() -> None:
    ctx = replace(CTX, age_limit_direction="older", age_limit_threshold=18)
    assert violations(ctx, birthdate="soon") == [("birthdate", "invalid-birthdate")]


# --- appointment type ----------------------------------------------------------------------

TYPED = replace(CTX, offered_type_ids=("annual-physical", "sick-visit"))


def test_appointment_type_is_required_when_the_schedule_offers_types() -> None:
    assert violations(TYPED) == [("appointment-type", "blank")]
    assert violations(TYPED, appointment_type="sick-visit") == []


def test_appointment_type_must_be_one_the_schedule_offers() -> None:
    found = builtin_violations({**VALID, "appointment-type": "surgery"}, TYPED)
    assert found == [
        Violation(
            "appointment-type",
            "not-included",
            "appointment-type is not offered by this schedule: annual-physical, sick-visit.",
        )
    ]


def test_a_long_list_of_types_is_not_spelled_out() -> None:
    ctx = replace(CTX, offered_type_ids=tuple(f"t{i}" for i in range(11)))
    [found] = builtin_violations({**VALID, "appointment-type": "x"}, ctx)
    assert "t1" not in found.message


def test_appointment_type_is_optional_without_types_but_cannot_name_one() -> None:
    assert violations() == []
    assert violations(appointment_type="annual-physical") == [("appointment-type", "not-included")]


# --- age -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2013, 12, 1), date(2026, 11, 30), 12),
        (date(2013, 12, 1), date(2026, 12, 1), 13),
        (date(2000, 1, 1), date(2000, 12, 31), 0),
        (date(2012, 2, 29), date(2026, 2, 28), 13),
        (date(2012, 2, 29), date(2026, 3, 1), 14),
        (date(2012, 2, 29), date(2028, 2, 29), 16),
        (date(2012, 2, 29), date(2028, 2, 28), 15),
        (date(2011, 3, 1), date(2024, 2, 29), 12),
    ],
)
def test_age_is_whole_years_on_the_day(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def at(day: date, ctx: RuleContext = CTX, **limit: Any) -> RuleContext:
    return replace(ctx, appointment_date=day, today=date(2026, 3, 15), **limit)


def test_caregiver_is_required_for_a_patient_of_12_on_the_appointment_date() -> None:
    # Born 2013-12-01: 12 on 2026-11-30 (13th birthday is the next day).
    ctx = at(date(2026, 11, 30))
    found = builtin_violations({**VALID, "birthdate": "2013-12-01"}, ctx)
    assert found == [
        Violation(
            "caregiver-name", "blank", "caregiver-name can't be blank for a patient 13 or younger."
        )
    ]
    assert violations(ctx, birthdate="2013-12-01", caregiver_name="Mom") == []


@pytest.mark.parametrize(
    ("born", "day", "required"),
    [
        ("2013-12-01", date(2026, 11, 30), True),  # 12
        ("2012-12-01", date(2026, 11, 30), True),  # 13
        ("2012-11-30", date(2026, 11, 30), False),  # 14 today
        ("2012-12-01", date(2026, 12, 1), False),  # 14 on the appointment date
        ("2012-02-29", date(2026, 2, 28), True),  # 13: a leap-day birthday comes on 1 March
        ("2012-02-29", date(2026, 3, 1), False),  # 14
        ("2025-01-01", date(2026, 3, 20), True),  # a baby
    ],
)
def test_caregiver_requirement_follows_age_on_the_appointment_date(
    born: str, day: date, required: bool
) -> None:
    expected = [("caregiver-name", "blank")] if required else []
    assert violations(at(day), birthdate=born) == expected


@pytest.mark.parametrize(
    ("born", "ok"),
    [("2008-03-20", True), ("2008-03-21", False), ("1950-01-01", True), ("2020-01-01", False)],
)
def test_older_limit_admits_the_threshold_age_and_above(born: str, ok: bool) -> None:
    ctx = at(date(2026, 3, 20), age_limit_direction="older", age_limit_threshold=18)
    found = builtin_violations({**VALID, "birthdate": born, "caregiver-name": "Mom"}, ctx)
    message = "The patient must be 18 or older on the appointment date."
    assert found == ([] if ok else [Violation("birthdate", "age-limit", message)])


@pytest.mark.parametrize(
    ("born", "ok"),
    [("2008-03-21", True), ("2008-03-20", False), ("1950-01-01", False), ("2020-01-01", True)],
)
def test_younger_limit_admits_ages_below_the_threshold(born: str, ok: bool) -> None:
    ctx = at(date(2026, 3, 20), age_limit_direction="younger", age_limit_threshold=18)
    found = violations(ctx, birthdate=born, caregiver_name="Mom")
    assert found == ([] if ok else [("birthdate", "age-limit")])


def test_age_limit_counts_on_the_appointment_date_not_today() -> None:
    # 17 today (2026-03-15) but 18 on the appointment date.
    ctx = at(date(2026, 4, 1), age_limit_direction="older", age_limit_threshold=18)
    assert violations(ctx, birthdate="2008-03-31") == []


@pytest.mark.parametrize(("direction", "threshold"), [(None, 18), ("older", None), ("either", 18)])
def test_an_incomplete_or_unknown_age_limit_imposes_nothing(
    direction: str | None, threshold: int | None
) -> None:
    ctx = at(date(2026, 3, 20), age_limit_direction=direction, age_limit_threshold=threshold)
    assert violations(ctx, birthdate="2000-01-01") == []


def test_age_limit_and_caregiver_are_both_reported() -> None:
    ctx = at(date(2026, 3, 20), age_limit_direction="older", age_limit_threshold=18)
    assert violations(ctx, birthdate="2020-01-01") == [
        ("birthdate", "age-limit"),
        ("caregiver-name", "blank"),
    ]


# --- pregnancy and insurance ---------------------------------------------------------------


@pytest.mark.parametrize("pregnant", [True, "yes", "true", 1])
def test_weeks_pregnant_is_required_when_pregnant(pregnant: Any) -> None:
    assert violations(pregnant=pregnant) == [("weeks-pregnant", "blank")]
    assert violations(pregnant=pregnant, weeks_pregnant=0) == []


@pytest.mark.parametrize("pregnant", [False, "no", 0])
def test_weeks_pregnant_is_optional_otherwise(pregnant: Any) -> None:
    assert violations(pregnant=pregnant) == []


def test_insurance_plan_permalink_must_be_accepted_when_given() -> None:
    assert violations(insurance_plan_permalink="aetna") == []
    assert violations(insurance_plan_permalink="cigna") == [
        ("insurance-plan-permalink", "not-accepted")
    ]
    assert violations(replace(CTX, accepted_plan_ids=frozenset()), insurance_plan_permalink="aetna")


# --- health-system features ----------------------------------------------------------------


def test_full_address_requires_the_address() -> None:
    ctx = replace(CTX, features=frozenset({"full-address"}))
    assert violations(ctx) == [
        ("address", "blank"),
        ("city", "blank"),
        ("state", "blank"),
        ("zip", "blank"),
    ]
    full = {"address": "1 Main", "city": "Nashville", "state": "TN", "zip": "37203"}
    assert violations(ctx, **full) == []
    assert violations() == []  # not without the feature


def test_has_physician_feature() -> None:
    ctx = replace(CTX, features=frozenset({"has-physician"}))
    assert violations(ctx) == [("has-physician", "blank")]
    assert violations(ctx, has_physician=False) == []
    assert violations(ctx, has_physician=True) == [("primary-care-physician", "blank")]
    assert violations(ctx, has_physician="yes", primary_care_physician="Dr. Who") == []
    assert violations(has_physician=True) == []


def test_patient_complaint_feature() -> None:
    ctx = replace(CTX, features=frozenset({"patient-complaint"}))
    assert violations(ctx) == [("patient-complaint", "blank")]
    assert violations(ctx, patient_complaint="Cough") == []


def test_insurance_feature_needs_a_plan_permalink_or_name() -> None:
    ctx = replace(CTX, features=frozenset({"insurance"}))
    assert violations(ctx) == [("insurance-plan-permalink", "blank")]
    assert violations(ctx, insurance_plan_name="Self pay") == []
    assert violations(ctx, insurance_plan_permalink="aetna") == []
    assert violations(ctx, insurance_plan_permalink="cigna") == [
        ("insurance-plan-permalink", "not-accepted")
    ]


def test_pregnant_feature_asks_female_patients_only() -> None:
    ctx = replace(CTX, features=frozenset({"pregnant"}))
    assert violations(ctx) == [("pregnant", "blank")]
    assert violations(ctx, gender="Female") == [("pregnant", "blank")]
    assert violations(ctx, pregnant=False) == []
    assert violations(ctx, gender="male") == []
    assert violations(ctx, pregnant=True) == [("weeks-pregnant", "blank")]


def test_every_violation_is_reported_together() -> None:
    ctx = replace(
        TYPED,
        features=ALL_FEATURES,
        appointment_date=date(2026, 3, 20),
        age_limit_direction="older",
        age_limit_threshold=18,
    )
    attrs = {
        "birthdate": "2020-01-01",
        "email": "nope",
        "gender": "female",
        "pregnant": "yes",
        "has-physician": True,
        "insurance-plan-permalink": "cigna",
    }
    # In the order visit-settings reports the rules (the age limit is the birthdate rule's).
    assert [(v.attribute, v.code) for v in builtin_violations(attrs, ctx)] == [
        ("appointment-at", "blank"),
        ("first-name", "blank"),
        ("last-name", "blank"),
        ("new-patient", "blank"),
        ("phone-number", "blank"),
        ("birthdate", "age-limit"),
        ("email", "invalid-email"),
        ("appointment-type", "blank"),
        ("caregiver-name", "blank"),
        ("weeks-pregnant", "blank"),
        ("insurance-plan-permalink", "not-accepted"),
        ("address", "blank"),
        ("city", "blank"),
        ("state", "blank"),
        ("zip", "blank"),
        ("primary-care-physician", "blank"),
        ("patient-complaint", "blank"),
    ]


# --- properties ----------------------------------------------------------------------------

MARKER = "\u2603"
NAMES = st.sampled_from(
    [
        *REQUIRED,
        "appointment-type",
        "caregiver-name",
        "weeks-pregnant",
        "pregnant",
        "has-physician",
        "insurance-plan-permalink",
        "address",
        "zip",
        "patient-complaint",
        "primary-care-physician",
    ]
)
CONTEXTS = st.builds(
    RuleContext,
    offered_type_ids=st.lists(st.sampled_from(["a", "b", "c"]), max_size=3).map(tuple),
    age_limit_direction=st.sampled_from([None, "older", "younger"]),
    age_limit_threshold=st.none() | st.integers(0, 120),
    appointment_date=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    today=st.just(TODAY),
    features=st.frozensets(st.sampled_from(sorted(ALL_FEATURES))),
    accepted_plan_ids=st.frozensets(st.sampled_from(["p", "q"])),
)


@given(
    attrs=st.dictionaries(
        NAMES,
        st.text().map(lambda s: MARKER + s) | st.booleans() | st.integers(0, 45) | st.dates(),
    ),
    ctx=CONTEXTS,
)
def test_messages_never_contain_values_and_violations_are_unique(
    attrs: dict[str, Any], ctx: RuleContext
) -> None:
    found = builtin_violations(attrs, ctx)
    assert all(MARKER not in v.message for v in found)
    keys = [(v.attribute, v.code) for v in found]
    assert len(keys) == len(set(keys))


@given(born=st.dates(date(1900, 1, 1), date(2026, 3, 14)), ctx=CONTEXTS)
def test_age_rules_agree_with_age_on(born: date, ctx: RuleContext) -> None:
    found = {(v.attribute, v.code) for v in builtin_violations({**VALID, "birthdate": born}, ctx)}
    age = age_on(born, ctx.appointment_date)
    assert (("caregiver-name", "blank") in found) == (age <= 13)
    limit = ctx.age_limit_threshold
    refused = limit is not None and (
        (ctx.age_limit_direction == "older" and age < limit)
        or (ctx.age_limit_direction == "younger" and age >= limit)
    )
    assert (("birthdate", "age-limit") in found) == refused


@pytest.mark.parametrize(
    "email",
    ["a@b.test", "a@b.example", "a@b.invalid", "a@localhost.localhost", "a@B.EXAMPLE"],
)
def test_reserved_top_level_domains_are_refused(email: str) -> None:
    assert violations(email=email) == [("email", "invalid-email")]


@pytest.mark.parametrize("email", ["a@example.com", "a@test.org", "a@invalid.co", "a@b.tests"])
def test_names_that_only_look_reserved_pass(email: str) -> None:
    assert violations(email=email) == []
