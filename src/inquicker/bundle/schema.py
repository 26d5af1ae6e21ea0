"""The data bundle document: pydantic models of every section, and the error type.

Models are strict (no "2" for 2, no "yes" for true) and forbid unknown keys, so a typo in a
bundle is reported instead of silently ignored. Times are ``"HH:MM"`` strings and dates
``"YYYY-MM-DD"`` strings, parsed here into ``time``/``date`` objects.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from inquicker.booking.rules import settings_problems
from inquicker.booking.visit_settings import VisitSettings

FORMAT = "inquicker-bundle/1"

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEATURES: tuple[str, ...] = (
    "full-address",
    "has-physician",
    "patient-complaint",
    "insurance",
    "pregnant",
)
LEVELS: tuple[str, ...] = ("health-system", "region", "location", "schedule")

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_HOSTNAME = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?"
)
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
_YMD = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle, at a path like ``schedules[3].hours[0].opens``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class BundleError(Exception):
    """A bundle that cannot be read or imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        head = str(problems[0]) if problems else "invalid bundle"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(head + more)


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError(
            "must be an id of lowercase letters, digits and '-', starting with a letter or"
            " digit, at most 100 characters"
        )
    return value


def _schedule_id(value: str) -> str:
    try:
        # Any spelling of a UUID is accepted; the canonical lowercase form is what is stored.
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID, e.g. 0b9c4f4e-6f1e-4c43-9a57-2d1c3b7e5a10") from None


def _hostname(value: str) -> str:
    if len(value) > 255 or not _HOSTNAME.fullmatch(value):
        raise ValueError("must be a lowercase hostname, e.g. winter-health.inquicker.com")
    return value


def _time_of_day(value: Any) -> time:
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise ValueError("must be a time of day written HH:MM (00:00 to 23:59)")
    return time.fromisoformat(value)


def _calendar_date(value: Any) -> date:
    if not isinstance(value, str) or not _YMD.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a calendar date") from None


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _time_zone(value: str) -> str:
    if not _known_zone(value):
        raise ValueError("is not an IANA time zone name, e.g. America/New_York")
    return value


def _unique(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists {value!r} more than once")
        seen.add(value)
    return values


Slug = Annotated[str, AfterValidator(_slug)]
ScheduleId = Annotated[str, AfterValidator(_schedule_id)]
Hostname = Annotated[str, AfterValidator(_hostname)]
TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=200)]
Url = Annotated[str, Field(max_length=500)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Feature = Literal["full-address", "has-physician", "patient-complaint", "insurance", "pregnant"]
Level = Literal["health-system", "region", "location", "schedule"]
Context = Literal["Patient", "Discharge", "Internal"]


class Section(BaseModel):
    """Base of every bundle model: strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _sound_settings(settings: VisitSettings) -> VisitSettings:
    """Refuse rules the server could not enforce as written (bad patterns, built-in-only
    parameters), so an import never stores settings that visit-settings misreports."""
    problems = settings_problems(settings)
    if problems:
        raise ValueError(" ".join(problems))
    return settings


CheckedSettings = Annotated[VisitSettings, AfterValidator(_sound_settings)]


class HealthSystemIn(Section):
    id: Slug
    name: Name
    use_gtm_container: bool = False
    disable_google_indexing: bool = False
    gtm_container: Annotated[str, Field(max_length=100)] | None = None
    gtag_conversion_event_id: Annotated[str, Field(max_length=100)] | None = None
    gtag_id: Annotated[str, Field(max_length=100)] | None = None
    features: Annotated[list[Feature], AfterValidator(_unique)] = Field(default_factory=list)
    hold_minutes: int = Field(default=30, ge=0, le=1440)
    # Partners may not cancel later than this before the visit (0: no cutoff; a week max).
    cancellation_cutoff_minutes: int = Field(default=0, ge=0, le=10080)
    # SMART Scheduling Links: publish Locations, Schedules and Slots without a key.
    publish_slots: bool = False
    # False switches visit creation off (403 booking-disabled); the catalog stays readable.
    booking_enabled: bool = True
    visit_settings: CheckedSettings = Field(default_factory=VisitSettings)


def _booking_url_template(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


class SiteIn(Section):
    hostname: Hostname
    name: Name | None = None
    # The booking deep link of published Slots: {schedule}, {slot} and {start} are filled in.
    booking_url_template: (
        Annotated[str, Field(max_length=1000), AfterValidator(_booking_url_template)] | None
    ) = None


class RegionIn(Section):
    id: Slug
    name: Name


class LocationIn(Section):
    id: Slug
    name: Name
    facility_name: Name | None = None
    region: Slug | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    state: Annotated[str, Field(max_length=50)] | None = None
    zip: Annotated[str, Field(max_length=20)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> LocationIn:
        # Distance ordering needs both; half a coordinate is always a data-entry mistake.
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        return self


class ServiceIn(Section):
    id: Slug
    name: Name


class MedicalGroupIn(Section):
    id: Slug
    name: Name


class ProviderIn(Section):
    id: Slug
    name: Name
    suffix: Annotated[str, Field(max_length=50)] | None = None
    gender: Literal["m", "f"] | None = None
    affiliation: Literal["employed", "affiliated"] | None = None
    provider_type: Literal["Practitioner", "Health Resource"] = "Practitioner"
    bio: str | None = None
    credentials: Text | None = None
    card_image: Url | None = None
    profile_image: Url | None = None
    grad_school: Text | None = None
    undergrad_school: Text | None = None
    backgrounds: list[Name] = Field(default_factory=list)
    subspecialties: list[Name] = Field(default_factory=list)
    languages: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list
    )
    medical_groups: list[Slug] = Field(default_factory=list)


class AppointmentTypeIn(Section):
    id: Slug
    name: Name
    priority: int = Field(default=5, ge=1, le=10)
    duration_minutes: int = Field(default=15, ge=5, le=480)


class InsurancePlanIn(Section):
    id: Slug
    company: Name
    name: Name


class AcceptanceIn(Section):
    level: Level
    # validate_default: a missing scope must still be checked against the level.
    scope: str | None = Field(default=None, validate_default=True)
    service: Slug
    plans: list[Slug]

    @field_validator("scope")
    @classmethod
    def _scope_fits_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        level = info.data.get("level")
        if level is None:  # the level itself was invalid and is reported already
            return value
        if level == "health-system":
            if value is not None:
                raise ValueError("must be null at the health-system level")
            return None
        if value is None:
            raise ValueError(f"must name the {level} this list applies to")
        return _schedule_id(value) if level == "schedule" else _slug(value)


class AgeLimitIn(Section):
    direction: Literal["older", "younger"]
    threshold: int = Field(ge=0, le=130)


class OfferedTypeIn(Section):
    id: Slug
    duration_minutes: int | None = Field(default=None, ge=5, le=480)


class TimeRangeIn(Section):
    opens: TimeOfDay
    closes: TimeOfDay

    @field_validator("closes")
    @classmethod
    def _after_opens(cls, value: time, info: ValidationInfo) -> time:
        opens = info.data.get("opens")
        if opens is not None and value <= opens:
            raise ValueError("must be after opens")
        return value


class WeeklyHoursIn(TimeRangeIn):
    days: Annotated[list[Weekday], AfterValidator(_unique)] = Field(min_length=1)


class ExceptionIn(Section):
    date: CalendarDate
    closed: bool = False
    hours: list[TimeRangeIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _closed_or_hours(self) -> ExceptionIn:
        if self.closed == bool(self.hours):
            raise ValueError('give either "closed": true or a non-empty "hours" list')
        return self


def _divides_day(value: int) -> int:
    # Slots start at midnight and repeat; a length that divides the day keeps every day's
    # grid identical.
    if 1440 % value:
        raise ValueError("must divide 1440 (a day) evenly, e.g. 5, 10, 15, 20, 30, 60")
    return value


class ScheduleIn(Section):
    id: ScheduleId
    name: Name
    provider: Slug
    location: Slug
    service: Slug
    schedule_type: Annotated[str, Field(min_length=1, max_length=30)] = "online"
    sort_order: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    time_zone: TimeZoneName
    context: Context = "Patient"
    accepting_new_patients: bool = True
    active: bool = True
    age_limit: AgeLimitIn | None = None
    slot_minutes: Annotated[int, Field(ge=5, le=240), AfterValidator(_divides_day)] = 15
    capacity: int = Field(default=1, ge=1, le=1000)
    lead_minutes: int = Field(default=0, ge=0, le=43_200)
    horizon_days: int = Field(default=90, ge=1, le=730)
    appointment_types: list[OfferedTypeIn] = Field(default_factory=list)
    hours: list[WeeklyHoursIn] = Field(default_factory=list)
    exceptions: list[ExceptionIn] = Field(default_factory=list)
    visit_settings: CheckedSettings = Field(default_factory=VisitSettings)


# Section name -> item model, in import (foreign key) order.
SECTIONS: dict[str, type[Section]] = {
    "sites": SiteIn,
    "regions": RegionIn,
    "locations": LocationIn,
    "services": ServiceIn,
    "medical_groups": MedicalGroupIn,
    "providers": ProviderIn,
    "appointment_types": AppointmentTypeIn,
    "insurance_plans": InsurancePlanIn,
    "insurance_acceptance": AcceptanceIn,
    "schedules": ScheduleIn,
}
TOP_LEVEL_KEYS: tuple[str, ...] = ("format", "health_system", *SECTIONS)


def dump_visit_settings(settings: VisitSettings) -> dict[str, Any]:
    """Visit settings as stored and exported: alias names, unset values left out."""
    return settings.model_dump(mode="json", by_alias=True, exclude_none=True)
