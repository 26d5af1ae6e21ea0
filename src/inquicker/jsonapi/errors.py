"""Errors are exceptions carrying status, code, title and source; one handler renders them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


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
        # The same problem found by two rules (say, a health-system feature and a schedule's
        # own setting both requiring a field) is reported once: JSON:API's error array holds
        # unique objects.
        unique: dict[str, dict[str, Any]] = {}
        for error in self.errors:
            rendered = error.render()
            unique.setdefault(repr(sorted(rendered.items())), rendered)
        return {"errors": list(unique.values())}


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
