"""Errors are exceptions carrying status, code, title and source; one handler renders them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# At most this many error objects per response (SPEC 8b): a query repeating one bad value
# thousands of times must not turn into a multi-megabyte error document.
MAX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class ErrorObject:
    """One JSON:API error object."""

    status: int
    code: str
    title: str
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None
    meta: dict[str, Any] | None = None

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": str(self.status), "code": self.code, "title": self.title}
        if self.detail is not None:
            out["detail"] = self.detail
        source: dict[str, str] = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        if self.header is not None:
            source["header"] = self.header
        if source:
            out["source"] = source
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass
class ApiError(Exception):
    """Raised anywhere in request handling; rendered as a JSON:API error document."""

    errors: list[ErrorObject]
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.errors[0].title if self.errors else "error")

    @property
    def status(self) -> int:
        """The most general status of the errors: equal statuses keep it, else 4xx -> 400."""
        statuses = {e.status for e in self.errors}
        if len(statuses) == 1:
            return statuses.pop()
        return 500 if any(s >= 500 for s in statuses) else 400

    def render(self) -> dict[str, Any]:
        """The error document: unique objects (JSON:API requires it; a repeated parameter or
        two rules can find the same problem twice), the first MAX_ERRORS of them, the count
        of the rest in meta."""
        rendered: list[dict[str, Any]] = []
        for error in self.errors:
            item = error.render()
            if item not in rendered:
                rendered.append(item)
        doc: dict[str, Any] = {"errors": rendered[:MAX_ERRORS]}
        if len(rendered) > MAX_ERRORS:
            doc["meta"] = {"omitted-errors": len(rendered) - MAX_ERRORS}
        return doc


def bad_parameter(parameter: str, detail: str, code: str = "invalid-parameter") -> ErrorObject:
    """A 400 about one query parameter."""
    return ErrorObject(400, code, "Invalid query parameter", detail, parameter=parameter)


def not_found(detail: str = "The requested resource does not exist.") -> ApiError:
    return ApiError([ErrorObject(404, "not-found", "Not found", detail)])


def raise_if_any(errors: Iterable[ErrorObject]) -> None:
    """Raise all collected problems together, if there are any."""
    found = list(errors)
    if found:
        raise ApiError(found)


UNAUTHORIZED = ErrorObject(
    401,
    "unauthorized",
    "Unauthorized",
    "A valid API key for this site is required (api_key query parameter or Authorization header).",
)
