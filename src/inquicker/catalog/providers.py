"""The providers resource declaration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from inquicker.catalog.models import Provider, ProviderMedicalGroup
from inquicker.catalog.provider_search import (
    PROVIDER_FILTERS,
    load_appointment_types,
    load_medical_groups,
)
from inquicker.catalog.schedule_models import Schedule
from inquicker.catalog.scoping import tenant_scope
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.resource import Attr, Rel, Resource


def _schedules() -> Select[Any, Any]:
    return select(Schedule.provider_pk, Schedule.pk)


def _medical_groups() -> Select[Any, Any]:
    return select(ProviderMedicalGroup.provider_pk, ProviderMedicalGroup.medical_group_pk)


def _list(value: Any) -> list[Any]:
    return list(value or [])


# Schemas of the values the SQL types cannot tell (JSON columns, bulk loaders).
_STRINGS = {"type": "array", "items": {"type": "string"}}
_REFS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
    },
}

PROVIDER_ATTRIBUTES: tuple[Attr, ...] = (
    Attr("name", Provider.name, sortable=True),
    Attr("suffix", Provider.suffix),
    Attr("gender", Provider.gender),
    Attr("affiliation", Provider.affiliation),
    Attr("provider-type", Provider.provider_type),
    Attr("bio", Provider.bio),
    Attr("credentials", Provider.credentials),
    Attr("card-image", Provider.card_image),
    Attr("profile-image", Provider.profile_image),
    Attr("grad-school", Provider.grad_school),
    Attr("undergrad-school", Provider.undergrad_school),
    Attr("backgrounds", Provider.backgrounds, convert=_list, schema=_STRINGS),
    Attr("subspecialties", Provider.subspecialties, convert=_list, schema=_STRINGS),
    Attr("languages", Provider.languages, convert=_list, schema=_STRINGS),
    Attr("appointment-types", loader=load_appointment_types, default=(), schema=_REFS),
    Attr("medical-groups", loader=load_medical_groups, default=(), schema=_REFS),
)

PROVIDER_RELATIONSHIPS: tuple[Rel, ...] = (
    Rel("schedules", "schedules", True, _schedules),
    # "medical-groups" is the attribute (a list of {id, name}, as the reference shows it).
    Rel(
        "medical-group-resources",
        "medical-groups",
        True,
        _medical_groups,
        aliases=("medical-groups",),
    ),
)


def _scope(ctx: ResourceContext) -> tuple[ColumnElement[bool], ...]:
    return tuple(tenant_scope(Provider.__table__)(ctx))


def provider_resource() -> Resource:
    """The providers declaration."""
    return Resource(
        type="providers",
        table=Provider.__table__,
        attributes=PROVIDER_ATTRIBUTES,
        relationships=PROVIDER_RELATIONSHIPS,
        filters=PROVIDER_FILTERS,
        scope=_scope,
        default_sort=("name",),
        description="Practitioners and health resources (e.g. an MRI machine).",
    )
