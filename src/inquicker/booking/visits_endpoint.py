"""POST /visits (SPEC section 7), and the related links of a visit.

Visits cannot be listed or read back: patient data never leaves the server. A visit's
``schedule``, ``location`` and ``provider`` links may be followed with a read key.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Any

from starlette.responses import Response

from inquicker.booking import management, phi
from inquicker.booking.errors import BookingError
from inquicker.booking.repository import (
    BookedVisit,
    TokenRecord,
    visit_by_id,
    visit_by_idempotency_key,
    visit_by_pk,
    visit_related_ids,
)
from inquicker.booking.tokens import TokenClaims, bearer_token, refuse, verify
from inquicker.booking.visit_document import RELATED, visit_document
from inquicker.booking.visit_input import BodyProblem, VisitInput, fingerprint, parse_visit_body
from inquicker.booking.visit_service import NewVisit, create_visit, token_record
from inquicker.jsonapi.body import decode_body
from inquicker.jsonapi.errors import ApiError, ErrorObject, not_found
from inquicker.jsonapi.handlers import show_resource
from inquicker.jsonapi.negotiation import check_content_type
from inquicker.jsonapi.resource import Registry, Resource
from inquicker.web.context import RequestContext
from inquicker.web.domain_errors import to_api_error
from inquicker.web.request import ApiRequest, Handler, authorize
from inquicker.web.responses import document_response


@lru_cache(maxsize=4)
def _phi_key(encoded: str) -> bytes:
    """The decoded key, once per process (settings do not change while it runs)."""
    return phi.decode_key(encoded)


def post_visit(ctx: RequestContext, req: ApiRequest) -> Response:
    """Book the visit a token authorises; an identical retry gets the original back."""
    check_content_type(req.headers.get("content-type"))
    now = int(ctx.now.timestamp())
    claims = verify(
        ctx.settings.secret_key,
        bearer_token(req.headers.get("authorization")),
        ctx.tenant.hostname,
        now,
    )
    record = token_record(ctx.session, claims, ctx.tenant.site_pk)
    body = decode_body(req.body)
    print_ = fingerprint(body)
    if record.used_at is not None:
        used = visit_by_pk(ctx.session.connection(), record.visit_pk) if record.visit_pk else None
        if used is not None and hmac.compare_digest(used.fingerprint, print_):
            return document_response(_replayed(ctx, used), 200)
        raise refuse("The visit token has already been used.", "token-used")
    key = req.headers.get("idempotency-key", "").strip()[:255] or None
    if key is not None:
        earlier = visit_by_idempotency_key(ctx.session.connection(), ctx.tenant.site_pk, key)
        if earlier is not None:
            if hmac.compare_digest(earlier.fingerprint, print_):
                return document_response(_replayed(ctx, earlier), 200)
            raise ApiError(
                [
                    ErrorObject(
                        422,
                        "idempotency-key-reused",
                        "Idempotency key reused",
                        "This Idempotency-Key was already used for a different request.",
                        header="Idempotency-Key",
                    )
                ]
            )
    visit, problems = parse_visit_body(body)
    structural = [p for p in problems if p.status == 400]
    if structural:
        raise ApiError(
            [
                ErrorObject(400, p.code, "Invalid document", p.message, pointer=p.pointer)
                for p in structural
            ]
        )
    created = book(ctx, claims, record, visit, print_, key, problems)
    doc = visit_document(
        ctx, created.visit, created.schedule, management_token=created.management_token
    )
    return document_response(doc, 201, Location=doc["data"]["links"]["self"])


def book(
    ctx: RequestContext,
    claims: TokenClaims,
    record: TokenRecord,
    visit: VisitInput,
    print_: str,
    key: str | None,
    problems: list[BodyProblem],
) -> NewVisit:
    """The booking use case with this request's tenant, clock, memo and secrets (shared by
    POST /visits and FHIR $book, so both faces book alike). The service's domain errors
    become JSON:API errors through the one table in web/domain_errors.py."""
    try:
        return create_visit(
            ctx.session,
            claims=claims,
            record=record,
            visit=visit,
            tenant=ctx.tenant,
            memo=ctx.memo,
            now=ctx.now,
            fingerprint=print_,
            idempotency_key=key,
            phi_key=_phi_key(ctx.settings.phi_key) if ctx.settings.phi_key else None,
            problems=problems,
            secret_key=ctx.settings.secret_key,
        )
    except BookingError as exc:
        raise to_api_error(exc) from None


def _replayed(ctx: RequestContext, visit: BookedVisit) -> dict[str, Any]:
    """An idempotent retry's answer: the same visit and the same management token."""
    token = (
        management.derive(ctx.settings.secret_key, visit.visit_id, visit.management_salt)
        if visit.management_salt
        else None
    )
    return visit_document(ctx, visit, management_token=token)


def related_handler(registry: Registry, name: str) -> Handler:
    """GET /visits/{id}/{name}: the visit's schedule, location or provider, with a read key."""

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        _, target, target_id = _related(ctx, req, registry, name)
        return show_resource(ctx, registry, target, target_id, req.params)

    return handle


def relationship_handler(registry: Registry, name: str) -> Handler:
    """GET /visits/{id}/relationships/{name}: the linkage of one of those, with a read key."""

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        visit_id, target, target_id = _related(ctx, req, registry, name)
        return {
            "data": {"type": target.type, "id": target_id},
            "links": {
                "self": ctx.url("visits", visit_id, "relationships", name),
                "related": ctx.url("visits", visit_id, name),
            },
        }

    return handle


def _related(
    ctx: RequestContext, req: ApiRequest, registry: Registry, name: str
) -> tuple[str, Resource, str]:
    """(visit id, the related resource type, its id): 401/403 without a read key, 404 for a
    visit of another tenant."""
    authorize(ctx, req, "read")
    visit_id = req.path_params["id"]
    visit = visit_by_id(ctx.session.connection(), visit_id, ctx.tenant.health_system_pks)
    if visit is None:
        raise not_found(f"No visit with id '{visit_id}'.")
    target_id = visit_related_ids(ctx.session, visit.schedule_pk)[name]
    return visit_id, registry[RELATED[name]], target_id
