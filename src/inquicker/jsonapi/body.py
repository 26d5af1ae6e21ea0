"""Reading a request body as JSON, with the protocol's refusals."""

from __future__ import annotations

from typing import Any

import orjson

from inquicker.jsonapi.errors import ApiError, ErrorObject

MAX_BODY_BYTES = 64 * 1024


def decode_body(raw: bytes) -> Any:
    """The JSON value of the body; 413 over the limit, 400 when it is not JSON."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(
            [
                ErrorObject(
                    413,
                    "body-too-large",
                    "Request body too large",
                    f"Bodies are limited to {MAX_BODY_BYTES} bytes.",
                )
            ]
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(
            [
                ErrorObject(
                    400,
                    "invalid-json",
                    "Malformed JSON",
                    "The request body is not valid JSON.",
                    pointer="",
                )
            ]
        ) from None
