"""Imports every table so metadata is complete (Alembic, tests)."""

from inquicker.availability.models import SeatClaim, SeatClaimVersion
from inquicker.booking.models import Visit, VisitToken
from inquicker.catalog.models import (
    AcceptanceList,
    AcceptanceListPlan,
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderLanguage,
    ProviderMedicalGroup,
    Region,
    Service,
)
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleBlock,
    ScheduleException,
    ScheduleHours,
    SchedulePlan,
)
from inquicker.db.base import Base
from inquicker.events.models import (
    Event,
    EventFeed,
    Hl7Destination,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from inquicker.operators.models import AuditEntry, Operator, OperatorSession, OperatorToken
from inquicker.tenancy.models import ApiKey, HealthSystem, Site, SiteHealthSystem
from inquicker.web.models import ServiceFlag

__all__ = [
    "AcceptanceList",
    "AcceptanceListPlan",
    "ApiKey",
    "AppointmentType",
    "AuditEntry",
    "Base",
    "Event",
    "EventFeed",
    "HealthSystem",
    "Hl7Destination",
    "InsurancePlan",
    "Location",
    "MedicalGroup",
    "Operator",
    "OperatorSession",
    "OperatorToken",
    "Provider",
    "ProviderLanguage",
    "ProviderMedicalGroup",
    "Region",
    "Schedule",
    "ScheduleAppointmentType",
    "ScheduleBlock",
    "ScheduleException",
    "ScheduleHours",
    "SchedulePlan",
    "SeatClaim",
    "SeatClaimVersion",
    "Service",
    "ServiceFlag",
    "Site",
    "SiteHealthSystem",
    "Visit",
    "VisitToken",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
