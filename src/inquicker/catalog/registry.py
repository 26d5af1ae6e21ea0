"""Every declared resource, assembled into the registry the generic handlers serve."""

from __future__ import annotations

from inquicker.catalog.providers import provider_resource
from inquicker.catalog.resources import (
    appointment_types,
    health_systems,
    insurance_plans,
    locations,
    medical_groups,
    services,
)
from inquicker.catalog.schedules import schedule_resource
from inquicker.jsonapi.resource import Registry


def build_registry() -> Registry:
    """The registry of catalog resources."""
    registry = Registry()
    for resource in (
        health_systems,
        locations,
        services,
        medical_groups,
        appointment_types,
        insurance_plans,
        provider_resource(),
        schedule_resource(),
    ):
        registry.add(resource)
    return registry
