"""URL builders and document accessors shared by the HTTP tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from httpx2 import Response

from tests.support.seed import ALPHA_HOST, BETA_HOST

ORIGIN = "http://testserver"
JSONAPI = "application/vnd.api+json"
ALPHA_BASE = f"{ORIGIN}/api/v3/{ALPHA_HOST}"
BETA_BASE = f"{ORIGIN}/api/v3/{BETA_HOST}"

Params = Mapping[str, str] | Sequence[tuple[str, str]]


def url(
    path: str,
    key: str | None = None,
    host: str = ALPHA_HOST,
    prefix: str = "/api/v3",
    params: Params = (),
) -> str:
    """A request path; ``key`` (if any) goes last as the documented ``api_key`` parameter."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    if key is not None:
        pairs.append(("api_key", key))
    query = f"?{urlencode(pairs)}" if pairs else ""
    return f"{prefix}/{host}{path}{query}"


def key_header(key: str) -> dict[str, str]:
    """Authentication in a header, so emitted links stay free of the key."""
    return {"X-Api-Key": key}


def ids(document: dict[str, Any]) -> list[str] | str | None:
    """Ids of the primary data, in order (a single id for a single resource)."""
    data = document["data"]
    if isinstance(data, list):
        return [r["id"] for r in data]
    return None if data is None else data["id"]


def refs(resources: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["type"], r["id"]) for r in resources]


def only_error(response: Response, status: int) -> dict[str, Any]:
    """The single error object of an error response with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    assert errors[0]["status"] == str(status)
    return errors[0]


def query_of(link: str) -> list[tuple[str, str]]:
    """The decoded query parameters of a link, in order."""
    return parse_qsl(urlsplit(link).query, keep_blank_values=True)
