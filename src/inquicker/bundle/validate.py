"""Checking a bundle document: shape (pydantic, item by item) and references (pure Python).

Items are validated one at a time so that one bad schedule does not hide the reference
problems of the others: every problem in the document is reported in one pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from inquicker.bundle.schema import (
    FORMAT,
    SECTIONS,
    SLUG,
    TOP_LEVEL_KEYS,
    WEEKDAYS,
    AcceptanceIn,
    AppointmentTypeIn,
    HealthSystemIn,
    InsurancePlanIn,
    LocationIn,
    MedicalGroupIn,
    Problem,
    ProviderIn,
    RegionIn,
    ScheduleIn,
    Section,
    ServiceIn,
    SiteIn,
    TimeRangeIn,
)

M = TypeVar("M", bound=Section)
Indexed = list[tuple[int, M]]


@dataclass
class ParsedBundle:
    """A bundle whose items passed validation, each kept with its index in the document."""

    # None when the health_system section is invalid (its problems are reported).
    health_system: HealthSystemIn | None
    # The health system's id whenever it is readable, even if other keys are invalid, so that
    # references can still be checked against what that health system already holds.
    health_system_id: str | None
    sites: Indexed[SiteIn] = field(default_factory=list)
    regions: Indexed[RegionIn] = field(default_factory=list)
    locations: Indexed[LocationIn] = field(default_factory=list)
    services: Indexed[ServiceIn] = field(default_factory=list)
    medical_groups: Indexed[MedicalGroupIn] = field(default_factory=list)
    providers: Indexed[ProviderIn] = field(default_factory=list)
    appointment_types: Indexed[AppointmentTypeIn] = field(default_factory=list)
    insurance_plans: Indexed[InsurancePlanIn] = field(default_factory=list)
    # None when the document has no insurance_acceptance key: acceptance is left alone.
    insurance_acceptance: Indexed[AcceptanceIn] | None = None
    schedules: Indexed[ScheduleIn] = field(default_factory=list)
    # Ids of items that failed validation: references to them are not reported again.
    invalid_ids: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Existing:
    """What the database already holds that a bundle may refer to (ids per table)."""

    regions: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    medical_groups: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    appointment_types: frozenset[str] = frozenset()
    insurance_plans: frozenset[str] = frozenset()
    schedules: frozenset[str] = frozenset()
    # hostname -> ids of the other health systems it is linked to
    foreign_hostnames: Mapping[str, Sequence[str]] = field(default_factory=dict)


def format_path(prefix: str, loc: Sequence[int | str]) -> str:
    """Join a pydantic error location onto a path: ``schedules[3]`` + (hours, 0) -> ..."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def _problems_of(exc: ValidationError, prefix: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"]
        # Our own validators raise ValueError; pydantic prefixes them, which reads badly.
        message = message.removeprefix("Value error, ")
        problems.append(Problem(format_path(prefix, error["loc"]), message))
    return problems


def _raw_id(item: Any, section: str) -> str | None:
    raw = item.get("id") if isinstance(item, Mapping) else None
    if not isinstance(raw, str) or section != "schedules":
        return raw if isinstance(raw, str) else None
    try:
        return str(uuid.UUID(raw))  # schedule ids are compared in canonical form
    except ValueError:
        return raw


def _parse_items(
    document: Mapping[str, Any],
    name: str,
    model: type[M],
    problems: list[Problem],
    invalid_ids: set[str],
) -> Indexed[M]:
    raw = document.get(name, [])
    if not isinstance(raw, list):
        problems.append(Problem(name, "must be a list"))
        return []
    items: Indexed[M] = []
    for index, item in enumerate(raw):
        try:
            items.append((index, model.model_validate(item)))
        except ValidationError as exc:
            problems.extend(_problems_of(exc, f"{name}[{index}]"))
            # A schedule whose provider has a bad gender should not also be told that the
            # provider does not exist.
            raw_id = _raw_id(item, name)
            if raw_id is not None:
                invalid_ids.add(raw_id)
    return items


def parse_document(document: Any) -> tuple[ParsedBundle | None, list[Problem]]:
    """Validate the shape of every item; returns the valid items and every problem found."""
    if not isinstance(document, Mapping):
        return None, [Problem("", "the bundle must be an object (a mapping of sections)")]
    problems: list[Problem] = [
        Problem(str(key), f"unknown key (expected one of: {', '.join(TOP_LEVEL_KEYS)})")
        for key in document
        if key not in TOP_LEVEL_KEYS
    ]
    if "format" not in document:
        problems.append(Problem("format", f'Field required (use "{FORMAT}")'))
    elif document["format"] != FORMAT:
        problems.append(Problem("format", f'must be "{FORMAT}"'))
    health_system: HealthSystemIn | None = None
    health_system_id: str | None = None
    raw = document.get("health_system")
    if raw is None:
        problems.append(Problem("health_system", "Field required"))
    else:
        try:
            health_system = HealthSystemIn.model_validate(raw)
            health_system_id = health_system.id
        except ValidationError as exc:
            problems.extend(_problems_of(exc, "health_system"))
            raw_id = raw.get("id") if isinstance(raw, Mapping) else None
            if isinstance(raw_id, str) and SLUG.fullmatch(raw_id):
                health_system_id = raw_id
    invalid_ids: dict[str, set[str]] = {name: set() for name in SECTIONS}
    sections: dict[str, Any] = {
        name: _parse_items(document, name, model, problems, invalid_ids[name])
        for name, model in SECTIONS.items()
    }
    if "insurance_acceptance" not in document:
        sections["insurance_acceptance"] = None
    bundle = ParsedBundle(
        health_system=health_system,
        health_system_id=health_system_id,
        invalid_ids=invalid_ids,
        **sections,
    )
    return bundle, problems


def _duplicates(items: Sequence[tuple[int, Any]], section: str, key: str) -> list[Problem]:
    first: dict[Any, int] = {}
    problems = []
    for index, item in items:
        value = getattr(item, key)
        if value in first:
            problems.append(
                Problem(
                    f"{section}[{index}].{key}",
                    f"duplicate {key} {value!r} (also at {section}[{first[value]}])",
                )
            )
        else:
            first[value] = index
    return problems


def _unknown(value: str, known: set[str] | frozenset[str], what: str, path: str) -> list[Problem]:
    if value in known:
        return []
    return [Problem(path, f"unknown {what} {value!r}")]


def _repeated(values: Sequence[Any], path: str, what: str) -> list[Problem]:
    seen: set[Any] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(Problem(f"{path}[{index}]", f"{what} {value!r} listed twice"))
        seen.add(value)
    return problems


def _overlaps(ranges: Sequence[tuple[str, TimeRangeIn]]) -> list[Problem]:
    """Problems for ranges (path, range) that overlap an earlier one on the same day."""
    problems = []
    ordered = sorted(ranges, key=lambda pair: (pair[1].opens, pair[1].closes))
    # Compare with the range reaching furthest so far, not just the previous one: a long
    # range can overlap several short ones that follow it.
    latest: TimeRangeIn | None = None
    for path, span in ordered:
        if latest is not None and span.opens < latest.closes:
            problems.append(
                Problem(
                    path,
                    f"{span.opens:%H:%M}-{span.closes:%H:%M} overlaps"
                    f" {latest.opens:%H:%M}-{latest.closes:%H:%M}",
                )
            )
        if latest is None or span.closes > latest.closes:
            latest = span
    return problems


def _schedule_problems(
    index: int, schedule: ScheduleIn, known: dict[str, set[str]]
) -> list[Problem]:
    path = f"schedules[{index}]"
    problems = [
        *_unknown(schedule.provider, known["providers"], "provider", f"{path}.provider"),
        *_unknown(schedule.location, known["locations"], "location", f"{path}.location"),
        *_unknown(schedule.service, known["services"], "service", f"{path}.service"),
    ]
    type_ids = [offered.id for offered in schedule.appointment_types]
    for position, type_id in enumerate(type_ids):
        problems += _unknown(
            type_id,
            known["appointment_types"],
            "appointment type",
            f"{path}.appointment_types[{position}].id",
        )
    problems += [
        Problem(p.path + ".id", p.message)
        for p in _repeated(type_ids, f"{path}.appointment_types", "appointment type")
    ]
    by_day: dict[str, list[tuple[str, TimeRangeIn]]] = {day: [] for day in WEEKDAYS}
    for position, hours in enumerate(schedule.hours):
        for weekday in hours.days:
            by_day[weekday].append((f"{path}.hours[{position}]", hours))
    for name, ranges in by_day.items():
        problems += [Problem(p.path, f"{p.message} on {name}") for p in _overlaps(ranges)]
    dates: dict[Any, int] = {}
    for position, exception in enumerate(schedule.exceptions):
        where = f"{path}.exceptions[{position}]"
        if exception.date in dates:
            problems.append(
                Problem(
                    f"{where}.date",
                    f"date {exception.date} also at {path}.exceptions[{dates[exception.date]}]",
                )
            )
        dates.setdefault(exception.date, position)
        problems += _overlaps(
            [(f"{where}.hours[{n}]", span) for n, span in enumerate(exception.hours)]
        )
    return problems


def check_references(bundle: ParsedBundle, existing: Existing) -> list[Problem]:
    """Duplicates and references that cannot be resolved, against the bundle and the DB."""
    problems: list[Problem] = []
    problems += _duplicates(bundle.sites, "sites", "hostname")
    for index, site in bundle.sites:
        owners = existing.foreign_hostnames.get(site.hostname)
        if owners:
            problems.append(
                Problem(
                    f"sites[{index}].hostname",
                    f"{site.hostname!r} already belongs to health system {', '.join(owners)}",
                )
            )
    known: dict[str, set[str]] = {}
    for name in (
        "regions",
        "locations",
        "services",
        "medical_groups",
        "providers",
        "appointment_types",
        "insurance_plans",
        "schedules",
    ):
        items: Indexed[Any] = getattr(bundle, name)
        problems += _duplicates(items, name, "id")
        known[name] = (
            set(getattr(existing, name))
            | {item.id for _, item in items}
            | bundle.invalid_ids.get(name, set())
        )

    for index, location in bundle.locations:
        if location.region is not None:
            problems += _unknown(
                location.region, known["regions"], "region", f"locations[{index}].region"
            )
    for index, provider in bundle.providers:
        path = f"providers[{index}]"
        for position, group in enumerate(provider.medical_groups):
            problems += _unknown(
                group,
                known["medical_groups"],
                "medical group",
                f"{path}.medical_groups[{position}]",
            )
        problems += _repeated(provider.medical_groups, f"{path}.medical_groups", "medical group")
        problems += _repeated(
            [language.strip().lower() for language in provider.languages],
            f"{path}.languages",
            "language",
        )
    for index, schedule in bundle.schedules:
        problems += _schedule_problems(index, schedule, known)
    if bundle.insurance_acceptance is not None:
        problems += _acceptance_problems(bundle.insurance_acceptance, known)
    return problems


def _acceptance_problems(
    entries: Indexed[AcceptanceIn], known: dict[str, set[str]]
) -> list[Problem]:
    problems: list[Problem] = []
    scopes = {"region": "regions", "location": "locations", "schedule": "schedules"}
    first: dict[tuple[str, str | None, str], int] = {}
    for index, entry in entries:
        path = f"insurance_acceptance[{index}]"
        if entry.scope is not None and entry.level in scopes:
            problems += _unknown(
                entry.scope, known[scopes[entry.level]], entry.level, f"{path}.scope"
            )
        problems += _unknown(entry.service, known["services"], "service", f"{path}.service")
        for position, plan in enumerate(entry.plans):
            problems += _unknown(
                plan, known["insurance_plans"], "insurance plan", f"{path}.plans[{position}]"
            )
        problems += _repeated(entry.plans, f"{path}.plans", "insurance plan")
        key = (entry.level, entry.scope, entry.service)
        if key in first:
            problems.append(
                Problem(
                    path,
                    f"a second {entry.level} list for service {entry.service!r}"
                    f" (also at insurance_acceptance[{first[key]}])",
                )
            )
        first.setdefault(key, index)
    return problems
