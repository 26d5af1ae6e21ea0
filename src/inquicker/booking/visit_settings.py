"""The shape of visit settings, as stored (health-system defaults, per-schedule overrides).

Validation kinds and their parameters follow the reference's visit-settings resource.
Parameter names are snake_case here and dasherized in the API (``allow_blank`` ->
``allow-blank``). Parameter types are the reference's: ``accept`` is a string (``"1"``);
``in`` holds the JSON values the field takes, so for a yes/no field they are booleans
(``"yes"``/``"no"`` and the other spellings are read as ``true``/``false``); ``is``,
``minimum`` and ``maximum`` are whole numbers.

Conditions (``when_attribute`` with ``when_in`` or ``when_age_at_most``) make a rule apply
only to some visits; the age parameters (``when_age_at_most``, and ``minimum_age`` /
``maximum_age`` of a ``birthdate`` rule) advertise the schedule's built-in age rules and
are refused in configured settings (``rules.settings_problems``): a schedule's age limit is
its ``age_limit``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inquicker.booking.fields import YES_NO_FIELDS

# A value a rule can name: what a visit attribute holds once parsed (None: not given).
JsonValue = str | bool | int | None
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})

ValidationKind = Literal[
    "acceptance",
    "birthdate",
    "email",
    "format",
    "inclusion",
    "length",
    "numericality",
    "presence",
    "phone",
]


class Validation(BaseModel):
    """One rule over one or more visit attributes (dasherized API names, e.g. ``zip``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ValidationKind
    attributes: list[str] = Field(min_length=1)
    # acceptance: the value a checked box sends ("1"; "true" and "yes" mean the same).
    # Bundles written before the reference's string form may still give a list.
    accept: str | list[str] | None = None
    allow_nil: bool | None = None
    # format
    with_: str | None = Field(default=None, alias="with")
    allow_blank: bool | None = None
    # inclusion
    in_: list[str | bool | int] | None = Field(default=None, alias="in")
    # length
    is_: int | None = Field(default=None, alias="is", ge=0)
    minimum: int | None = Field(default=None, ge=0)
    maximum: int | None = Field(default=None, ge=0)
    # numericality
    only_integer: bool | None = None
    greater_than: float | None = None
    less_than: float | None = None
    # birthdate: the patient's age in whole years on the appointment date (built-in only)
    minimum_age: int | None = Field(default=None, ge=0)
    maximum_age: int | None = None  # -1 when "younger than 0" admits nobody
    # conditions: the rule applies only when `when_attribute`'s value is one of `when_in`
    # (null: not given), or, for birthdate, when the patient is at most that old then.
    when_attribute: str | None = None
    when_in: list[JsonValue] | None = None
    when_age_at_most: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _yes_no_values(cls, data: Any) -> Any:
        """Read the spellings of yes and no as booleans where the field is a yes/no one."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        names = [str(a).replace("_", "-") for a in out.get("attributes") or ()]
        if out.get("kind") == "inclusion" and names and all(n in YES_NO_FIELDS for n in names):
            out["in"] = _booleans(out.get("in", out.get("in_")))
            out.pop("in_", None)
        when = str(out.get("when_attribute") or "").replace("_", "-")
        if when in YES_NO_FIELDS and out.get("when_in") is not None:
            out["when_in"] = _booleans(out["when_in"])
        return out

    def params(self) -> dict[str, Any]:
        """The kind's parameters that are set, keyed by their bundle (alias) names."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"kind", "attributes"})


def _booleans(values: Any) -> Any:
    """``"yes"``/``"no"`` (and true/false, 1/0 in any form) as booleans; others untouched,
    so the model's own validation reports them."""
    if not isinstance(values, list):
        return values
    out: list[Any] = []
    for value in values:
        word = str(value).strip().casefold() if not isinstance(value, bool) else None
        if word in _YES:
            value = True
        elif word in _NO:
            value = False
        out.append(value)
    return out


class VisitSettings(BaseModel):
    """Settings at one level. Omitted keys inherit from the health system."""

    model_config = ConfigDict(extra="forbid")

    # Added to (never replacing) the health system's validations.
    validations: list[Validation] = Field(default_factory=list)
    enabled_fields: list[str] | None = None
    patient_instructions: str | None = None
    preregistration_form_url: str | None = None
    screening_questions_url: str | None = None
