"""``GET /visit-settings/{schedule_id}``: the rules a booking form must follow for a schedule."""

from __future__ import annotations

from typing import Any

from inquicker.availability.repository import cached_schedules
from inquicker.booking.builtin_rules import builtin_validations, reported_settings
from inquicker.booking.repository import cached_booking_facts
from inquicker.booking.rules import to_api_objects
from inquicker.booking.visit_settings import Validation, VisitSettings
from inquicker.jsonapi.errors import ErrorObject, bad_parameter, not_found, raise_if_any
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

# Every attribute each object type can carry, for sparse fieldsets (fields[type]=...).
FIELDS: dict[str, frozenset[str]] = {
    "validation": frozenset(
        (info.alias or name).replace("_", "-") for name, info in Validation.model_fields.items()
    ),
    "enabled-fields": frozenset({"fields"}),
    "patient-instructions": frozenset({"text"}),
    "preregistration-form": frozenset({"url"}),
    "screening-questions": frozenset({"url"}),
}


def load_visit_settings(ctx: RequestContext, schedule_id: str) -> VisitSettings | None:
    """Every rule POST /visits applies to one of the tenant's active schedules (built-in,
    health-system features, configured settings), or None for no such schedule.

    Read through the same memoised facts the booking path checks visits against.
    """
    facts = cached_booking_facts(ctx.session, ctx.memo, ctx.tenant, schedule_id)
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(schedule_id)
    if facts is None or schedule is None or not facts.active:
        return None
    builtin = builtin_validations(
        tuple(t.id for t in schedule.types),
        facts.age_limit_direction,
        facts.age_limit_threshold,
        facts.features,
        facts.accepted_plan_ids,
    )
    return reported_settings(builtin, facts.settings)


def show_visit_settings(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    """The visit-settings document of the schedule the path names."""
    schedule_id = req.path_params["schedule_id"]
    sparse = _parse_params(req)
    settings = load_visit_settings(ctx, schedule_id)
    if settings is None:
        raise not_found(f"No schedule with id '{schedule_id}'.")
    data = to_api_objects(settings, schedule_id)
    for obj in data:
        wanted = sparse.get(obj["type"])
        if wanted is not None:
            obj["attributes"] = {k: v for k, v in obj["attributes"].items() if k in wanted}
    return {"data": data, "links": {"self": ctx.url("visit-settings", schedule_id)}}


def _parse_params(req: ApiRequest) -> dict[str, frozenset[str]]:
    """Sparse fieldsets by type; 400 for include and sort, which JSON:API says a server that
    cannot honour them must refuse rather than ignore."""
    errors: list[ErrorObject] = []
    sparse: dict[str, frozenset[str]] = {}
    refused: set[str] = set()
    for key, value in req.params:
        if key in ("include", "sort") and value and key not in refused:
            refused.add(key)
            detail = f"visit-settings does not support '{key}'."
            errors.append(bad_parameter(key, detail, "unsupported-parameter"))
        elif key.startswith("fields[") and key.endswith("]"):
            type_ = key[7:-1]
            known = FIELDS.get(type_)
            names = frozenset(n.strip() for n in value.split(",") if n.strip())
            if known is None:
                detail = f"'{type_}' is not a type of visit-settings ({', '.join(FIELDS)})."
                errors.append(bad_parameter(key, detail))
            elif unknown := sorted(names - known):
                detail = f"Unknown field(s) of {type_}: {', '.join(unknown)}."
                errors.append(bad_parameter(key, detail, "invalid-field"))
            else:
                sparse[type_] = names
    raise_if_any(errors)
    return sparse
