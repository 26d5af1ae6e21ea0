"""Shorthands shared by the rule tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from inquicker.booking.rules import check
from inquicker.booking.visit_settings import Validation

TODAY = date(2026, 3, 15)
SID = "11111111-1111-4111-8111-111111111111"


def rule(kind: str, *attributes: str, **params: Any) -> Validation:
    """A validation as stored (bundle names: ``with``, ``in``, ``is``)."""
    return Validation.model_validate({"kind": kind, "attributes": list(attributes), **params})


def codes(validation: Validation, value: Any) -> list[str]:
    """The violation codes of one rule over its first attribute's value (absent when ``...``)."""
    attrs = {} if value is ... else {validation.attributes[0]: value}
    return [v.code for v in check([validation], attrs, TODAY)]
