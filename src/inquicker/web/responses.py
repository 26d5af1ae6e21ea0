"""Rendering answers: JSON:API documents and errors, ETags and conditional GETs."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

import orjson
from starlette.responses import Response

from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.jsonapi.fragments import Spliced
from inquicker.jsonapi.negotiation import MEDIA_TYPE
from inquicker.jsonapi.routing import READ_METHODS

log = logging.getLogger("inquicker.api")

MEDIA_TYPE_BYTES = MEDIA_TYPE.encode("latin-1")


def conditional(
    method: str, headers: dict[str, str], response: Response, cache_control: str
) -> Response:
    """ETag on successful GETs, 304 when the client already has this representation."""
    if method not in READ_METHODS or response.status_code != 200:
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    tag = response.headers.get("etag") or etag_of(bytes(response.body))
    control = response.headers.get("cache-control") or cache_control
    if not_modified(tag, headers.get("if-none-match")):
        kept = {k: v for k, v in response.headers.items() if k.startswith("ratelimit-")}
        return Response(status_code=304, headers={"ETag": tag, "Cache-Control": control, **kept})
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = control
    return response


def not_modified(tag: str, if_none_match: str | None) -> bool:
    """The client's If-None-Match names this representation (weak tags compare equal)."""
    if not if_none_match:
        return False
    wanted = if_none_match.strip()
    return wanted == "*" or tag in {t.strip().removeprefix("W/") for t in wanted.split(",")}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


# The members of a JSON:API document that hold arrays of resource objects.
_OBJECT_ARRAYS = ("data", "included")


def document_tag(doc: dict[str, Any], body: bytes) -> str:
    """The strong ETag of ``body``, the serialisation of ``doc``.

    Arrays of spliced resource objects (``jsonapi.fragments.Spliced``) are hashed by their
    objects' marks, digests computed once per kept object: the source hashed is the body
    with each such object's bytes replaced by its mark, so any change of a byte of the body
    changes the tag, and equal bodies (a function of the route and its query) get equal
    tags in every process. Without such arrays, the body itself is hashed.
    """
    shadow: dict[str, Any] | None = None
    for name in _OBJECT_ARRAYS:
        value = doc.get(name)
        if isinstance(value, Spliced):
            if shadow is None:
                shadow = dict(doc)
            shadow[name] = orjson.Fragment(value.marks)
    return etag_of(body if shadow is None else orjson.dumps(shadow))


def document_response(doc: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return document_response_bytes(orjson.dumps(doc), status, **headers)


def document_response_bytes(body: bytes, status: int = 200, **headers: str) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def error_response(exc: ApiError) -> Response:
    return document_response(
        exc.render(), exc.status, **{"Cache-Control": "no-store"}, **exc.headers
    )


def internal_error_response() -> Response:
    """A 500 that leaks nothing but an id to find the traceback in the server log."""
    error_id = uuid.uuid4().hex
    log.exception("unhandled error", extra={"error_id": error_id})
    err = ErrorObject(
        500,
        "internal-error",
        "Internal server error",
        f"Something went wrong on our side. Quote error id {error_id} to support.",
        meta={"error-id": error_id},
    )
    return document_response({"errors": [err.render()]}, 500)
