"""Visit attribute families shared by the body parser, the rules and the settings model."""

from __future__ import annotations

# Answered yes or no; the body parser turns every accepted spelling into a JSON boolean,
# so rules over them (inclusion `in`, conditions) speak in booleans too.
YES_NO_FIELDS = frozenset(
    [
        "has-physician",
        "new-patient",
        "pregnant",
        "requires-standing-assistance",
        "requires-translator",
        "optin",
    ]
)
