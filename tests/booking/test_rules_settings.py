"""Merging health-system and schedule settings, the API objects, configuration checks."""

from __future__ import annotations

from inquicker.booking.rules import effective_settings, settings_problems, to_api_objects
from inquicker.booking.visit_settings import VisitSettings
from tests.booking.rule_helpers import SID, rule

# --- merging -------------------------------------------------------------------------------


def test_effective_settings_adds_validations_and_overrides_the_rest() -> None:
    health_system = VisitSettings(
        validations=[rule("presence", "zip"), rule("phone", "phone-number")],
        enabled_fields=["zip", "phone-number"],
        patient_instructions="Arrive early.",
        preregistration_form_url="https://hs.example/pre",
    )
    schedule = VisitSettings(
        validations=[rule("length", "zip", **{"is": 5}), rule("phone", "phone-number")],
        patient_instructions="Bring your card.",
        screening_questions_url="https://hs.example/screen",
    )
    merged = effective_settings(health_system, schedule)
    assert merged.validations == [
        rule("presence", "zip"),
        rule("phone", "phone-number"),
        rule("length", "zip", **{"is": 5}),  # the repeated phone rule is not added twice
    ]
    assert merged.enabled_fields == ["zip", "phone-number"]
    assert merged.patient_instructions == "Bring your card."
    assert merged.preregistration_form_url == "https://hs.example/pre"
    assert merged.screening_questions_url == "https://hs.example/screen"


def test_effective_settings_empty_schedule_list_overrides() -> None:
    merged = effective_settings(
        VisitSettings(enabled_fields=["zip"]), VisitSettings(enabled_fields=[])
    )
    assert merged.enabled_fields == []
    assert effective_settings(VisitSettings(), VisitSettings()) == VisitSettings()


# --- API objects ---------------------------------------------------------------------------


def test_to_api_objects_shapes_ids_and_order() -> None:
    settings = VisitSettings(
        validations=[
            rule("presence", "first_name", "last-name"),
            rule("format", "zip", **{"with": r"^\d{5}$"}),
            rule("acceptance", "terms"),
            rule(
                "numericality", "weeks-pregnant", only_integer=True, greater_than=0, less_than=42.5
            ),
            rule("presence", "first-name", "last-name"),
            rule("length", "state", **{"is": 2}),
            rule("inclusion", "gender", **{"in": ["female", "male"]}),
            rule("presence", "first-name", "last-name"),
        ],
        enabled_fields=["zip", "phone_number"],
        patient_instructions="Arrive 15 minutes early.",
        preregistration_form_url="https://hs.example/pre",
        screening_questions_url="https://hs.example/screen",
    )
    objects = to_api_objects(settings, SID)
    assert objects == [
        {
            "type": "validation",
            "id": f"{SID}-validation-presence-first-name+last-name",
            "attributes": {"kind": "presence", "attributes": ["first-name", "last-name"]},
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-format-zip",
            "attributes": {
                "kind": "format",
                "attributes": ["zip"],
                "allow-blank": True,
                "with": r"^\d{5}$",
            },
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-acceptance-terms",
            "attributes": {
                "kind": "acceptance",
                "attributes": ["terms"],
                "accept": "1",
                "allow-nil": True,
            },
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-numericality-weeks-pregnant",
            "attributes": {
                "kind": "numericality",
                "attributes": ["weeks-pregnant"],
                "only-integer": True,
                "greater-than": 0,
                "less-than": 42.5,
            },
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-presence-first-name+last-name-2",
            "attributes": {"kind": "presence", "attributes": ["first-name", "last-name"]},
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-length-state",
            "attributes": {"kind": "length", "attributes": ["state"], "is": 2},
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-inclusion-gender",
            "attributes": {"kind": "inclusion", "attributes": ["gender"], "in": ["female", "male"]},
        },
        {
            "type": "validation",
            "id": f"{SID}-validation-presence-first-name+last-name-3",
            "attributes": {"kind": "presence", "attributes": ["first-name", "last-name"]},
        },
        {
            "type": "enabled-fields",
            "id": f"{SID}-enabled-fields",
            "attributes": {"fields": ["zip", "phone-number"]},
        },
        {
            "type": "patient-instructions",
            "id": f"{SID}-patient-instructions",
            "attributes": {"text": "Arrive 15 minutes early."},
        },
        {
            "type": "preregistration-form",
            "id": f"{SID}-preregistration-form",
            "attributes": {"url": "https://hs.example/pre"},
        },
        {
            "type": "screening-questions",
            "id": f"{SID}-screening-questions",
            "attributes": {"url": "https://hs.example/screen"},
        },
    ]
    # Stable: the same settings give the same document every time.
    assert to_api_objects(settings.model_copy(deep=True), SID) == objects


def test_to_api_objects_show_set_parameters_over_defaults() -> None:
    [obj] = to_api_objects(
        VisitSettings(validations=[rule("acceptance", "t", accept=["ok"], allow_nil=False)]), SID
    )
    assert obj["attributes"] == {
        "kind": "acceptance",
        "attributes": ["t"],
        "accept": "ok",  # one value: the reference's string form
        "allow-nil": False,
    }


def test_to_api_objects_leaves_out_unset_singletons() -> None:
    assert to_api_objects(VisitSettings(), SID) == []


def test_ids_are_unique_even_when_an_attribute_looks_like_a_suffix() -> None:
    settings = VisitSettings(
        validations=[rule("presence", "a"), rule("presence", "a"), rule("presence", "a-2")]
    )
    ids = [o["id"] for o in to_api_objects(settings, SID)]
    assert len(set(ids)) == 3


# --- settings problems ---------------------------------------------------------------------


def test_settings_problems() -> None:
    settings = VisitSettings(
        validations=[
            rule("format", "zip", **{"with": "("}),
            rule("format", "zip"),
            rule("inclusion", "gender"),
            rule("length", "zip"),
            rule("length", "zip", minimum=5, maximum=3),
            rule("length", "zip", maximum=3, **{"is": 2}),
            rule("numericality", "n", greater_than=5, less_than=5),
            rule("presence", "zip"),
            rule("format", "zip", **{"with": r"\A\d+\z"}),
        ]
    )
    problems = settings_problems(settings)
    assert [p.split(":")[0] for p in problems] == [
        "validations[0] (format)",
        "validations[1] (format)",
        "validations[2] (inclusion)",
        "validations[3] (length)",
        "validations[4] (length)",
        "validations[5] (length)",
        "validations[6] (numericality)",
    ]
