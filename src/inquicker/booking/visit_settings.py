"""The shape of visit settings, as stored (health-system defaults, per-schedule overrides).

Validation kinds and their parameters follow the reference's visit-settings resource.
Parameter names are snake_case here and dasherized in the API (``allow_blank`` ->
``allow-blank``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    # acceptance
    accept: list[str] | None = None
    allow_nil: bool | None = None
    # format
    with_: str | None = Field(default=None, alias="with")
    allow_blank: bool | None = None
    # inclusion
    in_: list[str] | None = Field(default=None, alias="in")
    # length
    is_: int | None = Field(default=None, alias="is", ge=0)
    minimum: int | None = Field(default=None, ge=0)
    maximum: int | None = Field(default=None, ge=0)
    # numericality
    only_integer: bool | None = None
    greater_than: float | None = None
    less_than: float | None = None

    def params(self) -> dict[str, Any]:
        """The kind's parameters that are set, keyed by their bundle (alias) names."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"kind", "attributes"})


class VisitSettings(BaseModel):
    """Settings at one level. Omitted keys inherit from the health system."""

    model_config = ConfigDict(extra="forbid")

    # Added to (never replacing) the health system's validations.
    validations: list[Validation] = Field(default_factory=list)
    enabled_fields: list[str] | None = None
    patient_instructions: str | None = None
    preregistration_form_url: str | None = None
    screening_questions_url: str | None = None
