"""Unknown query parameters are refused (SPEC section 3): a misspelt one never silently
changes nothing. Each route declares what it takes; these are accepted everywhere."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from inquicker.jsonapi.errors import ErrorObject, bad_parameter

# The key's documented spelling, and the cache-buster browser libraries append (jQuery).
ALWAYS = frozenset({"api_key", "_"})


def family_of(key: str) -> str | None:
    """``fields`` for ``fields[providers]``; None for a parameter without brackets."""
    head, bracket, rest = key.partition("[")
    return head if bracket and rest.endswith("]") else None


def unknown_parameters(
    params: Sequence[tuple[str, str]],
    known: Collection[str],
    families: Collection[str] = (),
) -> list[ErrorObject]:
    """One 400 per unknown parameter name (each name once), listing what the route takes."""
    errors: list[ErrorObject] = []
    seen: set[str] = set()
    for key, _ in params:
        if key in ALWAYS or key in known or key in seen or family_of(key) in families:
            continue
        seen.add(key)
        accepted = sorted([*known, *(f"{f}[…]" for f in families)])
        errors.append(
            bad_parameter(
                key,
                f"Unknown query parameter '{key}'; this route takes: {', '.join(accepted)}.",
                code="unknown-parameter",
            )
        )
    return errors
