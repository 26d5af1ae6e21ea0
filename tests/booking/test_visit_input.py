"""The POST /visits body: document structure, attribute normalisation and the retry fingerprint."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inquicker.booking.rules import check
from inquicker.booking.visit_input import (
    ACCEPTED_ATTRIBUTES,
    MAX_LONG_TEXT,
    MAX_TEXT,
    BodyProblem,
    VisitInput,
    fingerprint,
    parse_visit_body,
    pointer,
)
from inquicker.booking.visit_settings import Validation
from tests.booking.rule_helpers import SID, TODAY

# In the style of the reference's booking walk-through: every yes/no spelling at once.
WALK_THROUGH: dict[str, Any] = {
    "data": {
        "type": "visits",
        "attributes": {
            "address": "123 Main St",
            "address-2": "Apt 4",
            "appointment-at": "2026-03-20T13:00:00-04:00",
            "appointment-type": "annual-physical",
            "birthdate": "1985-06-15",
            "caregiver-name": None,
            "city": "Nashville",
            "comments": "Back pain",
            "email": "pat@example.com",
            "first-name": "Pat",
            "gender": "female",
            "has-physician": "yes",
            "insurance-group-number": "G-12",
            "insurance-member-number": 98765,
            "insurance-plan-name": "Blue Cross",
            "insurance-plan-permalink": "blue-cross",
            "last-name": "Smith",
            "middle-initial": "Q",
            "new-patient": "true",
            "optin": 1,
            "patient-complaint": "Back pain",
            "phone-number": "(615) 555-0100",
            "pregnant": "0",
            "primary-care-physician": "Dr. Who",
            "requires-standing-assistance": False,
            "requires-translator": "no",
            "state": "TN",
            "terms-911": "1",
            "terms-tos": "1",
            "translator-language": "",
            "weeks-pregnant": None,
            "zip": "37203",
        },
        "relationships": {"schedule": {"data": {"type": "schedules", "id": SID}}},
    }
}


def body(attributes: Any = None, **data: Any) -> dict[str, Any]:
    """A visit document with the given attributes and data members."""
    doc: dict[str, Any] = {
        "type": "visits",
        "attributes": attributes or {},
        "relationships": {"schedule": {"data": {"type": "schedules", "id": SID}}},
    }
    doc.update(data)
    return {"data": doc}


def parsed(**attributes: Any) -> VisitInput:
    """The input of a body with these (underscored -> dashed) attributes; no problems."""
    visit, problems = parse_visit_body(
        body({k.replace("_", "-"): v for k, v in attributes.items()})
    )
    assert problems == []
    return visit


def problems_of(document: Any) -> list[tuple[str, str, int]]:
    return [(p.pointer, p.code, p.status) for p in parse_visit_body(document)[1]]


def one_attribute(name: str, value: Any) -> tuple[VisitInput, list[tuple[str, str]]]:
    visit, problems = parse_visit_body(body({name: value}))
    return visit, [(p.pointer, p.code) for p in problems]


# --- the walk-through ----------------------------------------------------------------------


def test_the_walk_through_body_is_accepted_as_it_stands() -> None:
    visit, problems = parse_visit_body(WALK_THROUGH)
    assert problems == []
    assert visit.schedule_id == SID
    assert visit.appointment_at == datetime(2026, 3, 20, 17, 0, tzinfo=UTC)
    assert visit.rejected == frozenset()
    attrs = visit.attributes
    assert attrs["appointment-at"] == "2026-03-20T13:00:00-04:00"
    assert attrs["has-physician"] is True
    assert attrs["new-patient"] is True
    assert attrs["optin"] is True
    assert attrs["pregnant"] is False
    assert attrs["requires-standing-assistance"] is False
    assert attrs["requires-translator"] is False
    assert attrs["insurance-member-number"] == "98765"
    assert attrs["birthdate"] == "1985-06-15"
    for dropped in ("caregiver-name", "weeks-pregnant", "terms-tos", "terms-911"):
        assert dropped not in attrs
    assert "translator-language" not in attrs  # blank counts as not given


def test_parsing_does_not_modify_the_body() -> None:
    before = copy.deepcopy(WALK_THROUGH)
    parse_visit_body(WALK_THROUGH)
    assert before == WALK_THROUGH


# --- document structure --------------------------------------------------------------------


@pytest.mark.parametrize("document", [None, [], "visit", 3, True])
def test_a_body_that_is_not_an_object_is_400_at_the_root(document: Any) -> None:
    assert problems_of(document) == [("", "invalid-document", 400)]


@pytest.mark.parametrize("document", [{}, {"data": None}, {"data": []}, {"data": "x"}])
def test_a_body_without_a_data_object_is_400_at_data(document: Any) -> None:
    assert problems_of(document) == [("/data", "invalid-document", 400)]


def test_attributes_and_relationships_must_be_objects() -> None:
    assert problems_of(body(attributes=[1], relationships="x")) == [
        ("/data/attributes", "invalid-document", 400),
        ("/data/relationships", "invalid-document", 400),
    ]


def test_a_structural_problem_gives_an_empty_input() -> None:
    visit, _ = parse_visit_body({"data": []})
    assert visit == VisitInput(None, None, {})


@pytest.mark.parametrize("type_", ["visit", "Visits", None, 1])
def test_data_type_must_be_visits(type_: Any) -> None:
    assert problems_of(body(type=type_)) == [("/data/type", "invalid-resource-type", 422)]


def test_a_missing_type_is_422_at_data_type() -> None:
    document = body()
    del document["data"]["type"]
    assert problems_of(document) == [("/data/type", "invalid-resource-type", 422)]


def test_client_generated_ids_are_refused() -> None:
    assert problems_of(body(id="v1")) == [("/data/id", "client-generated-id", 422)]


def test_attributes_may_be_left_out_and_links_meta_are_ignored() -> None:
    document = body(links={"self": "x"}, meta={"a": 1})
    del document["data"]["attributes"]
    document["meta"] = {"client": "x"}
    visit, problems = parse_visit_body(document)
    assert problems == []
    assert visit.attributes == {}
    assert visit.schedule_id == SID


# --- the schedule relationship -------------------------------------------------------------


def test_a_missing_schedule_relationship_is_reported() -> None:
    assert problems_of(body(relationships={})) == [
        ("/data/relationships/schedule", "missing-relationship", 422)
    ]
    document = body()
    del document["data"]["relationships"]
    visit, problems = parse_visit_body(document)
    assert visit.schedule_id is None
    assert [p.pointer for p in problems] == ["/data/relationships/schedule"]


@pytest.mark.parametrize("schedule", [None, "x", {}, {"links": {}}])
def test_a_schedule_relationship_without_data_is_reported(schedule: Any) -> None:
    assert problems_of(body(relationships={"schedule": schedule})) == [
        ("/data/relationships/schedule", "invalid-relationship", 422)
    ]


@pytest.mark.parametrize("linkage", [None, [], [{"type": "schedules", "id": SID}]])
def test_schedule_linkage_must_be_one_resource_identifier(linkage: Any) -> None:
    assert problems_of(body(relationships={"schedule": {"data": linkage}})) == [
        ("/data/relationships/schedule/data", "invalid-relationship", 422)
    ]


def test_schedule_linkage_type_must_be_schedules() -> None:
    document = body(relationships={"schedule": {"data": {"type": "providers", "id": SID}}})
    visit, problems = parse_visit_body(document)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/data/relationships/schedule/data/type", "invalid-resource-type")
    ]
    assert visit.schedule_id == SID


@pytest.mark.parametrize("id_", [None, "", 5, ["x"], "x" * 256])
def test_schedule_linkage_id_must_be_a_non_empty_string(id_: Any) -> None:
    document = body(relationships={"schedule": {"data": {"type": "schedules", "id": id_}}})
    visit, problems = parse_visit_body(document)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/data/relationships/schedule/data/id", "invalid-id")
    ]
    assert visit.schedule_id is None


def test_unknown_relationships_are_named() -> None:
    relationships = {
        "schedule": {"data": {"type": "schedules", "id": SID}},
        "provider": {"data": {"type": "providers", "id": "p"}},
    }
    visit, problems = parse_visit_body(body(relationships=relationships))
    assert [(p.pointer, p.code) for p in problems] == [
        ("/data/relationships/provider", "unknown-relationship")
    ]
    assert "provider" in problems[0].message
    assert visit.schedule_id == SID


# --- which attributes ----------------------------------------------------------------------


def test_the_accepted_attributes_are_exactly_those_of_the_spec() -> None:
    assert len(ACCEPTED_ATTRIBUTES) == 39
    assert {"insurance-plan-full-address", "address-2", "optin", "zip"} <= ACCEPTED_ATTRIBUTES


def test_an_unknown_attribute_is_named_in_its_pointer_and_message() -> None:
    visit, problems = parse_visit_body(body({"shoe-size": "9", "first-name": "Pat"}))
    assert problems == [
        BodyProblem(
            "/data/attributes/shoe-size",
            "unknown-attribute",
            "'shoe-size' is not a visit attribute.",
        )
    ]
    assert visit.attributes == {"first-name": "Pat"}


def test_an_unknown_attribute_is_reported_even_when_null() -> None:
    assert one_attribute("first_name", None)[1] == [
        ("/data/attributes/first_name", "unknown-attribute")
    ]


def test_pointers_escape_slash_and_tilde() -> None:
    assert one_attribute("a/b~c", "x")[1] == [("/data/attributes/a~1b~0c", "unknown-attribute")]
    assert pointer("data", "attributes", "~/") == "/data/attributes/~0~1"


def test_a_very_long_unknown_name_is_shortened_in_the_message_only() -> None:
    name = "n" * 500
    problem = parse_visit_body(body({name: 1}))[1][0]
    assert problem.pointer == "/data/attributes/" + name
    assert len(problem.message) < 200


@pytest.mark.parametrize("name", ["terms-tos", "terms-911"])
@pytest.mark.parametrize("value", ["1", True, None, {"any": "thing"}])
def test_terms_are_accepted_and_dropped(name: str, value: Any) -> None:
    visit, problems = one_attribute(name, value)
    assert problems == []
    assert visit.attributes == {}


@pytest.mark.parametrize("name", sorted(ACCEPTED_ATTRIBUTES))
def test_null_and_blank_count_as_not_given(name: str) -> None:
    for value in (None, "", "   ", "\t\n"):
        visit, problems = one_attribute(name, value)
        assert (visit.attributes, problems, visit.rejected) == ({}, [], frozenset())


# --- yes/no, optin, weeks-pregnant ---------------------------------------------------------

YES_NO = [
    "has-physician",
    "new-patient",
    "pregnant",
    "requires-standing-assistance",
    "requires-translator",
    "optin",
]


@pytest.mark.parametrize("name", YES_NO)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("YES", True),
        (" Yes ", True),
        ("true", True),
        ("True", True),
        ("1", True),
        (True, True),
        (1, True),
        (1.0, True),
        ("no", False),
        ("No", False),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        (False, False),
        (0, False),
        (0.0, False),
    ],
)
def test_yes_no_spellings_become_booleans(name: str, value: Any, expected: bool) -> None:
    visit, problems = one_attribute(name, value)
    assert problems == []
    assert visit.attributes[name] is expected


@pytest.mark.parametrize("name", YES_NO)
@pytest.mark.parametrize("value", ["maybe", "y", "n", "2", 2, -1, 0.5, [], {}, ["yes"]])
def test_other_yes_no_values_are_invalid(name: str, value: Any) -> None:
    visit, problems = one_attribute(name, value)
    assert problems == [(f"/data/attributes/{name}", "invalid-type")]
    assert visit.attributes == {}
    assert visit.rejected == {name}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (12, 12), (45, 45), ("12", 12), (" 7 ", 7), (20.0, 20), ("+3", 3), ("007", 7)],
)
def test_weeks_pregnant_becomes_an_integer(value: Any, expected: int) -> None:
    visit, problems = one_attribute("weeks-pregnant", value)
    assert problems == []
    assert visit.attributes["weeks-pregnant"] == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (46, "out-of-range"),
        (-1, "out-of-range"),
        ("-1", "out-of-range"),
        ("100", "out-of-range"),
        (10**30, "out-of-range"),
        ("12.5", "invalid-type"),
        (12.5, "invalid-type"),
        ("twelve", "invalid-type"),
        (True, "invalid-type"),
        ([12], "invalid-type"),
        ("1e1", "invalid-type"),
        ("12345678", "invalid-type"),
    ],
)
def test_weeks_pregnant_must_be_a_whole_number_from_0_to_45(value: Any, code: str) -> None:
    assert one_attribute("weeks-pregnant", value)[1] == [("/data/attributes/weeks-pregnant", code)]


# --- text ----------------------------------------------------------------------------------


def test_strings_are_trimmed() -> None:
    assert parsed(first_name="  Pat \n", email=" a@b.co ").attributes == {
        "first-name": "Pat",
        "email": "a@b.co",
    }


@pytest.mark.parametrize(
    "name",
    [
        "zip",
        "phone-number",
        "insurance-group-number",
        "insurance-member-number",
        "insurance-plan-phone-number",
    ],
)
def test_number_like_fields_accept_whole_numbers(name: str) -> None:
    assert parsed(**{name: 37203}).attributes == {name: "37203"}
    assert one_attribute(name, -5)[1] == [(f"/data/attributes/{name}", "invalid-type")]
    assert one_attribute(name, 3.5)[1] == [(f"/data/attributes/{name}", "invalid-type")]
    assert one_attribute(name, 10**40)[1] == [(f"/data/attributes/{name}", "too-long")]


@pytest.mark.parametrize("name", ["first-name", "email", "gender", "city", "appointment-type"])
@pytest.mark.parametrize("value", [5, 1.5, True, False, [], ["Pat"], {"a": 1}])
def test_other_text_fields_need_strings(name: str, value: Any) -> None:
    visit, problems = one_attribute(name, value)
    assert problems == [(f"/data/attributes/{name}", "invalid-type")]
    assert name in visit.rejected


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("first-name", MAX_TEXT),
        ("address", MAX_TEXT),
        ("comments", MAX_LONG_TEXT),
        ("patient-complaint", MAX_LONG_TEXT),
        ("url", 4000),
        ("user-agent", 4000),
    ],
)
def test_text_is_capped(name: str, limit: int) -> None:
    assert one_attribute(name, " " + "x" * limit + " ")[1] == []
    visit, problems = one_attribute(name, "x" * (limit + 1))
    assert problems == [(f"/data/attributes/{name}", "too-long")]
    assert visit.attributes == {}


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1990-04-05",
        " 1990-04-05 ",
        "1990-04-05T00:00:00",
        "1990-04-05T23:30:00-05:00",
        "1990-04-05T10:00:00Z",
        "1990-04-05 08:00",
    ],
)
def test_birthdate_keeps_the_calendar_date_as_written(value: str) -> None:
    assert parsed(birthdate=value).attributes == {"birthdate": "1990-04-05"}


@pytest.mark.parametrize(
    "value", ["04/05/1990", "1990-02-30", "yesterday", "1990", "19900405x", "1990-04-05T25:00"]
)
def test_an_unparseable_birthdate_is_invalid_date(value: str) -> None:
    visit, problems = one_attribute("birthdate", value)
    assert problems == [("/data/attributes/birthdate", "invalid-date")]
    assert visit.rejected == {"birthdate"}


def test_a_birthdate_must_be_a_string() -> None:
    assert one_attribute("birthdate", 19900405)[1] == [
        ("/data/attributes/birthdate", "invalid-type")
    ]


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2026-03-20T13:00:00-04:00", datetime(2026, 3, 20, 17, tzinfo=UTC)),
        ("2026-03-20T17:00:00Z", datetime(2026, 3, 20, 17, tzinfo=UTC)),
        ("2026-03-20T17:00:00+00:00", datetime(2026, 3, 20, 17, tzinfo=UTC)),
        ("2026-03-20T22:30:00.000+05:30", datetime(2026, 3, 20, 17, tzinfo=UTC)),
        ("2026-03-20 13:00-04:00", datetime(2026, 3, 20, 17, tzinfo=UTC)),
    ],
)
def test_appointment_at_is_parsed_to_an_aware_instant(value: str, instant: datetime) -> None:
    visit = parsed(appointment_at=value)
    assert visit.appointment_at == instant
    assert visit.appointment_at is not None and visit.appointment_at.tzinfo is not None
    assert visit.attributes == {"appointment-at": value}


def test_appointment_at_keeps_its_offset() -> None:
    visit = parsed(appointment_at="2026-03-20T13:00:00-04:00")
    assert visit.appointment_at is not None
    assert visit.appointment_at.utcoffset() == timedelta(hours=-4)
    assert visit.appointment_at.tzinfo == timezone(timedelta(hours=-4))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-03-20T13:00:00", "missing-offset"),
        ("2026-03-20 13:00", "missing-offset"),
        ("2026-03-20", "invalid-date-time"),
        ("tomorrow at 1", "invalid-date-time"),
        ("2026-03-20T25:00:00Z", "invalid-date-time"),
        ("1066-10-14T09:00:00Z", "invalid-date-time"),
        ("9999-12-31T23:59:59-12:00", "invalid-date-time"),
        (1742490000, "invalid-type"),
    ],
)
def test_a_bad_appointment_at_is_refused(value: Any, code: str) -> None:
    visit, problems = one_attribute("appointment-at", value)
    assert problems == [("/data/attributes/appointment-at", code)]
    assert visit.appointment_at is None
    assert visit.attributes == {}
    assert visit.rejected == {"appointment-at"}


# --- everything at once --------------------------------------------------------------------


def test_all_problems_are_reported_together() -> None:
    document = body(
        {
            "first-name": ["Pat"],
            "new-patient": "maybe",
            "weeks-pregnant": 99,
            "birthdate": "05/04/1990",
            "appointment-at": "2026-03-20T13:00:00",
            "colour": "blue",
            "last-name": "Smith",
        },
        type="visit",
        id="1",
        relationships={"schedule": {"data": {"type": "schedule", "id": SID}}},
    )
    visit, problems = parse_visit_body(document)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/data/type", "invalid-resource-type"),
        ("/data/id", "client-generated-id"),
        ("/data/relationships/schedule/data/type", "invalid-resource-type"),
        ("/data/attributes/first-name", "invalid-type"),
        ("/data/attributes/new-patient", "invalid-type"),
        ("/data/attributes/weeks-pregnant", "out-of-range"),
        ("/data/attributes/birthdate", "invalid-date"),
        ("/data/attributes/appointment-at", "missing-offset"),
        ("/data/attributes/colour", "unknown-attribute"),
    ]
    assert all(p.status == 422 for p in problems)
    assert visit.attributes == {"last-name": "Smith"}
    assert visit.rejected == {
        "first-name",
        "new-patient",
        "weeks-pregnant",
        "birthdate",
        "appointment-at",
    }


def test_messages_name_the_attribute_but_not_the_value() -> None:
    secret = "123-45-6789"
    document = body({"birthdate": secret, "weeks-pregnant": secret, "new-patient": secret})
    for problem in parse_visit_body(document)[1]:
        assert secret not in problem.message
        assert problem.pointer.rsplit("/", 1)[1] in problem.message


# --- fingerprint ---------------------------------------------------------------------------


def test_the_fingerprint_is_a_sha256_hex_of_data() -> None:
    print_ = fingerprint(WALK_THROUGH)
    assert len(print_) == 64 and int(print_, 16) >= 0
    assert fingerprint(copy.deepcopy(WALK_THROUGH)) == print_


def test_the_fingerprint_ignores_key_order_and_top_level_members() -> None:
    reordered = {"data": dict(reversed(list(WALK_THROUGH["data"].items())))}
    reordered["data"]["attributes"] = dict(
        reversed(list(WALK_THROUGH["data"]["attributes"].items()))
    )
    reordered["meta"] = {"sent-at": "now"}
    assert fingerprint(reordered) == fingerprint(WALK_THROUGH)


@pytest.mark.parametrize(
    "change", [("first-name", "Pam"), ("optin", "1"), ("optin", True), ("comments", None)]
)
def test_any_change_in_data_changes_the_fingerprint(change: tuple[str, Any]) -> None:
    other = copy.deepcopy(WALK_THROUGH)
    other["data"]["attributes"][change[0]] = change[1]
    assert fingerprint(other) != fingerprint(WALK_THROUGH)


def test_the_fingerprint_takes_any_body() -> None:
    assert fingerprint([1, 2]) != fingerprint([2, 1])
    assert fingerprint({"data": "\ud800"}) == fingerprint({"data": "\ud800"})
    assert fingerprint(None) == fingerprint({})  # both have no data


# --- properties ----------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
NAMES = st.sampled_from(sorted(ACCEPTED_ATTRIBUTES | {"terms-tos", "terms-911"})) | st.text(
    max_size=12
)
VISIT_LIKE = st.builds(
    lambda attrs, rels, type_: {
        "data": {"type": type_, "attributes": attrs, "relationships": rels}
    },
    st.dictionaries(NAMES, JSON, max_size=12),
    st.dictionaries(st.sampled_from(["schedule", "provider"]), JSON, max_size=2)
    | st.just({"schedule": {"data": {"type": "schedules", "id": SID}}}),
    st.sampled_from(["visits", "visit"]) | JSON,
)
MARKER = "\u2603"


@given(document=JSON | VISIT_LIKE)
def test_parsing_is_total_and_fingerprinting_too(document: Any) -> None:
    visit, problems = parse_visit_body(document)
    assert isinstance(visit, VisitInput)
    assert all(p.status in (400, 422) for p in problems)
    assert len(fingerprint(document)) == 64


@given(document=VISIT_LIKE)
def test_accepted_values_have_their_normal_form(document: Any) -> None:
    visit, problems = parse_visit_body(document)
    refused = {p.pointer for p in problems}
    for name, value in visit.attributes.items():
        assert name in ACCEPTED_ATTRIBUTES
        assert pointer("data", "attributes", name) not in refused
        assert isinstance(value, bool | int | str)
        if isinstance(value, str):
            assert value == value.strip() and value
    assert visit.rejected <= ACCEPTED_ATTRIBUTES
    assert not visit.rejected & visit.attributes.keys()
    if visit.appointment_at is not None:
        assert visit.appointment_at.tzinfo is not None


@given(document=VISIT_LIKE)
def test_configured_rules_always_see_scalar_values(document: Any) -> None:
    # The handler runs the settings' rules on these attributes: never "invalid-type".
    visit, _ = parse_visit_body(document)
    rules = [
        Validation.model_validate({"kind": "presence", "attributes": sorted(ACCEPTED_ATTRIBUTES)}),
        Validation.model_validate({"kind": "birthdate", "attributes": ["birthdate"]}),
    ]
    assert "invalid-type" not in {v.code for v in check(rules, visit.attributes, TODAY)}


@given(
    values=st.dictionaries(
        st.sampled_from(sorted(ACCEPTED_ATTRIBUTES)),
        st.text(min_size=1).map(lambda s: MARKER + s)
        | st.lists(st.text().map(lambda s: MARKER + s), min_size=1)
        | st.dictionaries(st.text(max_size=4), st.text().map(lambda s: MARKER + s), min_size=1),
    ),
    schedule_id=st.text().map(lambda s: MARKER + s),
)
def test_messages_never_contain_submitted_values(values: dict[str, Any], schedule_id: str) -> None:
    document = body(
        values, relationships={"schedule": {"data": {"type": MARKER, "id": schedule_id}}}
    )
    for problem in parse_visit_body(document)[1]:
        assert MARKER not in problem.message
