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
from inquicker.booking.operations import VISITS_OPERATIONS
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
from inquicker.booking.visit_management_endpoint import (
    show_visit,
    update_visit_route,
    visit_calendar_response,
)
from inquicker.booking.visit_service import NewVisit, create_visit, token_record
from inquicker.jsonapi.body import decode_body
from inquicker.jsonapi.context import RequestContext
from inquicker.jsonapi.errors import ApiError, ErrorObject, not_found
from inquicker.jsonapi.handlers import show_resource
from inquicker.jsonapi.negotiation import check_content_type
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.routes import ApiRequest, Endpoint, authorize, document_response

CALENDAR = "calendar.ics"


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
    POST /visits and FHIR $book, so both faces book alike)."""
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
        problems=[
            ErrorObject(p.status, p.code, "Invalid attribute", p.message, pointer=p.pointer)
            for p in problems
        ],
        secret_key=ctx.settings.secret_key,
    )


def _replayed(ctx: RequestContext, visit: BookedVisit) -> dict[str, Any]:
    """An idempotent retry's answer: the same visit and the same management token."""
    token = (
        management.derive(ctx.settings.secret_key, visit.visit_id, visit.management_salt)
        if visit.management_salt
        else None
    )
    return visit_document(ctx, visit, management_token=token)


def make_endpoint(registry: Registry) -> Endpoint:
    """The /visits endpoint; the registry serves a visit's related resources."""

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        seg = req.segments
        if len(seg) == 1:
            return post_visit(ctx, req)
        if len(seg) == 2:
            return update_visit_route(ctx, req) if req.method == "PATCH" else show_visit(ctx, req)
        if len(seg) == 3 and seg[2] == CALENDAR:
            return visit_calendar_response(ctx, req)
        authorize(ctx, req, "read")
        name = seg[3] if len(seg) == 4 and seg[2] == "relationships" else seg[2]
        if name not in RELATED or (len(seg) == 4 and seg[2] != "relationships"):
            raise not_found("No such route.")
        visit = visit_by_id(ctx.session.connection(), seg[1], ctx.tenant.health_system_pks)
        if visit is None:
            raise not_found(f"No visit with id '{seg[1]}'.")
        target_id = visit_related_ids(ctx.session, visit.schedule_pk)[name]
        target = registry[RELATED[name]]
        if len(seg) == 4:
            return {
                "data": {"type": target.type, "id": target_id},
                "links": {"self": ctx.url(*seg), "related": ctx.url(seg[0], seg[1], name)},
            }
        return show_resource(ctx, registry, target, target_id, req.params)

    return Endpoint(
        frozenset({"GET", "HEAD", "POST"}),
        handle,
        scope=None,
        max_segments=4,
        writes=True,
        methods_for=_methods,
        operations=VISITS_OPERATIONS,
    )


def _methods(segments: tuple[str, ...]) -> frozenset[str]:
    """POST /visits creates; a visit is read and changed with its management token; its
    calendar and links can be followed."""
    if len(segments) == 1:
        return frozenset({"POST"})
    if len(segments) == 2:
        return frozenset({"GET", "HEAD", "PATCH"})
    return frozenset({"GET", "HEAD"})
