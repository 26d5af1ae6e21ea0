"""The visit validation rules: every kind with passing and failing examples."""

from __future__ import annotations

from typing import Any

import pytest

from inquicker.booking.rules import Violation, check, compile_pattern, phone_digits
from inquicker.booking.visit_settings import Validation
from tests.booking.rule_helpers import TODAY, codes, rule

# --- presence ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", " x ", 0, 1.5, False, True, "0"])
def test_presence_accepts_any_non_blank_value(value: Any) -> None:
    assert codes(rule("presence", "field"), value) == []


@pytest.mark.parametrize("value", [..., None, "", "   ", "\t\n"])
def test_presence_refuses_absent_null_and_blank(value: Any) -> None:
    assert codes(rule("presence", "field"), value) == ["blank"]


def test_presence_violation_names_the_attribute() -> None:
    assert check([rule("presence", "first-name")], {}, TODAY) == [
        Violation("first-name", "blank", "first-name can't be blank.")
    ]


def test_snake_case_rule_attributes_are_dasherized() -> None:
    violations = check([rule("presence", "first_name")], {"first-name": ""}, TODAY)
    assert [(v.attribute, v.code) for v in violations] == [("first-name", "blank")]


# --- acceptance ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "yes", "YES", True, 1, 1.0])
def test_acceptance_default_accepts(value: Any) -> None:
    assert codes(rule("acceptance", "field"), value) == []


@pytest.mark.parametrize("value", ["0", "no", False, 0, "y", "2"])
def test_acceptance_default_refuses(value: Any) -> None:
    assert codes(rule("acceptance", "field"), value) == ["not-accepted"]


def test_acceptance_with_own_accept_list() -> None:
    terms = rule("acceptance", "field", accept=["agreed"])
    assert codes(terms, "agreed") == []
    assert codes(terms, "yes") == ["not-accepted"]


def test_acceptance_allows_absent_unless_allow_nil_is_false() -> None:
    assert codes(rule("acceptance", "field"), ...) == []
    assert codes(rule("acceptance", "field", allow_nil=True), None) == []
    strict = rule("acceptance", "field", allow_nil=False)
    assert codes(strict, ...) == ["not-accepted"]
    assert codes(strict, None) == ["not-accepted"]
    assert codes(strict, "") == ["not-accepted"]
    assert codes(strict, "yes") == []


# --- birthdate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1980-02-29", "2026-03-14", "1990-06-01T00:00:00Z", "1990-06-01T23:30:00-05:00"]
)
def test_birthdate_accepts_past_dates(value: str) -> None:
    assert codes(rule("birthdate", "birthdate"), value) == []


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-15",  # today
        "2030-01-01",
        "1895-01-01",  # more than 130 years ago
        "1990-02-30",
        "06/01/1990",
        "1990-6-1",
        "yesterday",
        19900601,
        True,
    ],
)
def test_birthdate_refuses_today_future_absurd_and_malformed(value: Any) -> None:
    assert codes(rule("birthdate", "birthdate"), value) == ["invalid-birthdate"]


def test_birthdate_boundary_of_plausible_age() -> None:
    assert codes(rule("birthdate", "b"), "1896-03-15") == []
    assert codes(rule("birthdate", "b"), "1896-03-14") == ["invalid-birthdate"]


# --- email ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "pat@example.com",
        "pat.smith+tag@mail.example.co.uk",
        " pat@example.org ",
        "o'neil@ex.io",
        "jose@bücher.de",
        "x@xn--bcher-kva.de",
    ],
)
def test_email_accepts(value: str) -> None:
    assert codes(rule("email", "email"), value) == []


@pytest.mark.parametrize(
    "value",
    [
        "pat",
        "pat@",
        "@example.com",
        "pat@example",
        "pat@@example.com",
        "pat smith@example.com",
        "pat..smith@example.com",
        ".pat@example.com",
        "pat@-example.com",
        "pat@example.c",
        "pat@example.com.",
        "a" * 65 + "@example.com",
        12345,
    ],
)
def test_email_refuses(value: Any) -> None:
    assert codes(rule("email", "email"), value) == ["invalid-email"]


# --- format --------------------------------------------------------------------------------


def test_format_searches_so_unanchored_patterns_match_anywhere() -> None:
    loose = rule("format", "zip", **{"with": r"\d{5}"})
    assert codes(loose, "37201") == []
    assert codes(loose, "zip 37201-1234") == []
    assert codes(loose, "3720") == ["invalid-format"]


@pytest.mark.parametrize("pattern", [r"^\d{5}$", r"\A\d{5}\z", r"\A\d{5}\Z"])
def test_format_anchored_patterns_constrain_the_whole_value(pattern: str) -> None:
    zip_rule = rule("format", "zip", **{"with": pattern})
    assert codes(zip_rule, "37201") == []
    assert codes(zip_rule, "37201-1234") == ["invalid-format"]
    assert codes(zip_rule, "x37201") == ["invalid-format"]


def test_format_ruby_hex_escape_is_translated() -> None:
    hex_rule = rule("format", "code", **{"with": r"\A\h+\z"})
    assert codes(hex_rule, "beef01") == []
    assert codes(hex_rule, "beefy") == ["invalid-format"]
    # An escaped backslash before z or h stays literal.
    assert compile_pattern(r"\\z").search("\\z") is not None


def test_format_numbers_are_matched_on_their_string_form() -> None:
    assert codes(rule("format", "zip", **{"with": r"^\d{5}$"}), 37201) == []


def test_format_skips_blank_unless_allow_blank_is_false() -> None:
    assert codes(rule("format", "zip", **{"with": r"^\d{5}$"}), "") == []
    assert codes(rule("format", "zip", **{"with": r"^\d{5}$"}), ...) == []
    strict = rule("format", "zip", allow_blank=False, **{"with": r"^\d{5}$"})
    assert codes(strict, ...) == ["invalid-format"]
    assert codes(strict, " ") == ["invalid-format"]
    assert codes(strict, "37201") == []


def test_format_patterns_are_compiled_once() -> None:
    assert compile_pattern(r"^cached\d+$") is compile_pattern(r"^cached\d+$")


# --- inclusion -----------------------------------------------------------------------------


def test_inclusion() -> None:
    gender = rule("inclusion", "gender", **{"in": ["female", "male"]})
    assert codes(gender, "female") == []
    assert codes(gender, "Female") == ["not-included"]
    assert codes(gender, "other") == ["not-included"]
    assert codes(gender, ...) == []
    yes_no = rule("inclusion", "flag", **{"in": ["true", "false"]})
    assert codes(yes_no, False) == []


def test_inclusion_message_lists_short_lists_only() -> None:
    [short] = check([rule("inclusion", "g", **{"in": ["a", "b"]})], {"g": "zz"}, TODAY)
    assert short.message == "g is not one of the allowed values: a, b."
    many = [str(n) for n in range(11)]
    [long] = check([rule("inclusion", "g", **{"in": many})], {"g": "zz"}, TODAY)
    assert long.message == "g is not one of the allowed values."


# --- length --------------------------------------------------------------------------------


def test_length_is() -> None:
    exact = rule("length", "state", **{"is": 2})
    assert codes(exact, "TN") == []
    assert codes(exact, "TNN") == ["wrong-length"]
    assert codes(exact, "T") == ["wrong-length"]
    assert codes(exact, 12) == []


def test_length_minimum_and_maximum() -> None:
    bounded = rule("length", "name", minimum=2, maximum=4)
    assert codes(bounded, "ab") == []
    assert codes(bounded, "abcd") == []
    assert codes(bounded, "a") == ["too-short"]
    assert codes(bounded, "abcde") == ["too-long"]
    assert codes(bounded, "ñandú") == ["too-long"]  # characters, not bytes
    assert codes(rule("length", "name", maximum=3), "é") == []


def test_length_skips_absent_values() -> None:
    assert codes(rule("length", "name", minimum=2), ...) == []
    assert codes(rule("length", "name", minimum=2), "") == []


# --- numericality --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["12", "-3", "+4", "1.5", ".5", "2e3", " 7 ", 12, 2.5, 3.0])
def test_numericality_accepts_numbers(value: Any) -> None:
    assert codes(rule("numericality", "n"), value) == []


@pytest.mark.parametrize("value", ["twelve", "1,5", "1_000", "0x1A", "nan", "inf", "1.2.3", True])
def test_numericality_refuses_non_numbers(value: Any) -> None:
    assert codes(rule("numericality", "n"), value) == ["not-a-number"]


def test_numericality_only_integer() -> None:
    whole = rule("numericality", "weeks-pregnant", only_integer=True)
    assert codes(whole, "12") == []
    assert codes(whole, 12) == []
    assert codes(whole, 12.0) == []
    assert codes(whole, "12.5") == ["not-an-integer"]
    assert codes(whole, "1e3") == ["not-an-integer"]


def test_numericality_bounds_are_exclusive() -> None:
    weeks = rule("numericality", "w", greater_than=0, less_than=43)
    assert codes(weeks, "1") == []
    assert codes(weeks, "42.9") == []
    assert codes(weeks, "0") == ["not-greater-than"]
    assert codes(weeks, "43") == ["not-less-than"]
    assert codes(weeks, "1e999") == ["not-less-than"]
    [v] = check([weeks], {"w": "50"}, TODAY)
    assert v.message == "w must be less than 43."


# --- phone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "6155550100",
        "615-555-0100",
        "(615) 555-0100",
        "615.555.0100",
        "+1 615 555 0100",
        "1-615-555-0100",
        6155550100,
    ],
)
def test_phone_accepts_north_american_numbers(value: Any) -> None:
    assert codes(rule("phone", "phone-number"), value) == []


@pytest.mark.parametrize(
    "value",
    [
        "555-0100",
        "615555010",
        "26155550100",
        "+44 20 7946 0958",
        "615-555-01OO",
        "615/555/0100",
        "６１５５５５０１００",
        "615 555 0100 x12",
    ],
)
def test_phone_refuses_others(value: Any) -> None:
    assert codes(rule("phone", "phone-number"), value) == ["invalid-phone"]


def test_phone_digits() -> None:
    assert phone_digits("+1 (615) 555-0100") == "6155550100"
    assert phone_digits("555-0100") is None


# --- absent values, several rules, odd types -----------------------------------------------


@pytest.mark.parametrize(
    "validation",
    [
        rule("birthdate", "field"),
        rule("email", "field"),
        rule("format", "field", **{"with": "^x$"}),
        rule("inclusion", "field", **{"in": ["x"]}),
        rule("length", "field", **{"is": 3}),
        rule("numericality", "field"),
        rule("phone", "field"),
        rule("acceptance", "field"),
    ],
)
@pytest.mark.parametrize("value", [..., None, "", "  "])
def test_non_presence_rules_skip_absent_and_blank_values(
    validation: Validation, value: Any
) -> None:
    assert codes(validation, value) == []


def test_all_problems_reported_in_rule_order_without_duplicates() -> None:
    rules = [
        rule("presence", "first-name", "last-name"),
        rule("email", "email"),
        rule("presence", "first-name"),  # the same problem again: reported once
    ]
    violations = check(rules, {"last-name": "Doe", "email": "nope"}, TODAY)
    assert [(v.attribute, v.code) for v in violations] == [
        ("first-name", "blank"),
        ("email", "invalid-email"),
    ]


def test_non_scalar_values_are_refused_once_per_attribute() -> None:
    rules = [rule("presence", "zip"), rule("format", "zip", **{"with": "x"})]
    violations = check(rules, {"zip": ["37201"]}, TODAY)
    assert [(v.attribute, v.code) for v in violations] == [("zip", "invalid-type")]
