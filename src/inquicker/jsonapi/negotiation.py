"""JSON:API content negotiation (406 / 415)."""

from __future__ import annotations

from inquicker.jsonapi.errors import ApiError, ErrorObject

MEDIA_TYPE = "application/vnd.api+json"
# Parameters JSON:API 1.1 allows on its media type.
_ALLOWED_PARAMS = {"ext", "profile"}


def _split(header: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            if "=" in piece:
                k, v = piece.split("=", 1)
                params[k.strip().lower()] = v.strip()
        if media:
            out.append((media, params))
    return out


def _has_foreign_params(params: dict[str, str]) -> bool:
    return any(k not in _ALLOWED_PARAMS and k != "q" for k in params)


def check_accept(accept: str | None) -> None:
    """406 when Accept lists the JSON:API media type only with parameters it does not allow."""
    if not accept:
        return
    entries = _split(accept)
    jsonapi = [params for media, params in entries if media == MEDIA_TYPE]
    others = [media for media, _ in entries if media != MEDIA_TYPE]
    if jsonapi and all(_has_foreign_params(p) for p in jsonapi) and not others:
        raise ApiError(
            [
                ErrorObject(
                    406,
                    "not-acceptable",
                    "Not acceptable",
                    f"Accept must allow {MEDIA_TYPE} without media type parameters.",
                    header="Accept",
                )
            ]
        )


def check_content_type(content_type: str | None) -> None:
    """415 unless the body is declared as the JSON:API media type (ext/profile allowed)."""
    entries = _split(content_type or "")
    if len(entries) == 1 and entries[0][0] == MEDIA_TYPE and not _has_foreign_params(entries[0][1]):
        return
    raise ApiError(
        [
            ErrorObject(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"Request bodies must be sent with Content-Type: {MEDIA_TYPE}.",
                header="Content-Type",
            )
        ]
    )
