"""Properties of the visit validation rules over generated values."""

from __future__ import annotations

import re
import string

from hypothesis import given
from hypothesis import strategies as st

from inquicker.booking.rules import check, phone_digits
from tests.booking.rule_helpers import TODAY, codes, rule

DELIMITERS = st.text(alphabet=" ()-.+", max_size=3)


@given(
    digits=st.text(alphabet=string.digits, min_size=10, max_size=10),
    gaps=st.lists(DELIMITERS, min_size=11, max_size=11),
    country=st.booleans(),
)
def test_any_ten_digits_with_any_delimiters_are_a_phone_number(
    digits: str, gaps: list[str], country: bool
) -> None:
    number = ("1" if country else "") + digits
    text = "".join(g + d for g, d in zip(gaps, number, strict=False)) + gaps[-1]
    assert codes(rule("phone", "p"), text) == []
    assert phone_digits(text) == digits


@given(digits=st.text(alphabet=string.digits, min_size=1, max_size=14))
def test_digit_counts_other_than_ten_are_not_a_phone_number(digits: str) -> None:
    ok = len(digits) == 10 or (len(digits) == 11 and digits[0] == "1")
    assert (codes(rule("phone", "p"), digits) == []) == ok


# Every character Python (like Rails' [[:space:]]) counts as whitespace: NBSP, ideographic...
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


@given(st.text(alphabet=WHITESPACE, max_size=20))
def test_presence_never_passes_on_whitespace_only(value: str) -> None:
    assert codes(rule("presence", "field"), value) == ["blank"]


@given(value=st.text(min_size=1, max_size=30), size=st.integers(0, 30))
def test_length_is_passes_exactly_on_that_many_characters(value: str, size: int) -> None:
    expected = value.strip() == "" or len(value) == size
    assert (codes(rule("length", "f", **{"is": size}), value) == []) == expected


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_integers_are_numbers_whatever_their_form(number: int) -> None:
    whole = rule("numericality", "n", only_integer=True)
    assert codes(whole, number) == []
    assert codes(whole, str(number)) == []


ALL_KINDS = [
    rule("acceptance", "f", allow_nil=False),
    rule("birthdate", "f"),
    rule("email", "f"),
    rule("format", "f", allow_blank=False, **{"with": "^never$"}),
    rule("inclusion", "f", **{"in": ["a"]}),
    rule("length", "f", maximum=1),
    rule("numericality", "f", greater_than=0),
    rule("phone", "f"),
    rule("presence", "f"),
]


@given(st.text(alphabet=string.ascii_letters + string.digits + "@.-", min_size=1, max_size=20))
def test_messages_never_echo_the_submitted_value(secret: str) -> None:
    value = "PHI" + secret
    for violation in check(ALL_KINDS, {"f": value}, TODAY):
        assert "PHI" not in violation.message
        assert re.fullmatch(r"f [^\n]+\.", violation.message)
