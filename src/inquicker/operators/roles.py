"""Roles and what each may do (SPEC section 12): pure rules, one place."""

from __future__ import annotations

from typing import Final

ADMIN: Final = "admin"
SCHEDULER: Final = "scheduler"
VIEWER: Final = "viewer"
AUDITOR: Final = "auditor"
ROLES: Final = (ADMIN, SCHEDULER, VIEWER, AUDITOR)

# Permission -> roles holding it. admin holds everything.
READ_VISITS: Final = "read-visits"
READ_PATIENT_DATA: Final = "read-patient-data"
CHANGE_VISITS: Final = "change-visits"
READ_EVENTS: Final = "read-events"
READ_AUDIT: Final = "read-audit"
MANAGE_KEYS: Final = "manage-keys"
MANAGE_SCHEDULES: Final = "manage-schedules"
MANAGE_WEBHOOKS: Final = "manage-webhooks"
IMPORT_BUNDLES: Final = "import-bundles"

GRANTS: Final[dict[str, frozenset[str]]] = {
    READ_VISITS: frozenset({ADMIN, SCHEDULER, VIEWER}),
    READ_PATIENT_DATA: frozenset({ADMIN, SCHEDULER}),
    CHANGE_VISITS: frozenset({ADMIN, SCHEDULER}),
    READ_EVENTS: frozenset({ADMIN, SCHEDULER}),
    READ_AUDIT: frozenset({ADMIN, AUDITOR}),
    MANAGE_KEYS: frozenset({ADMIN}),
    # Hours, exceptions, blocks, capacity: the clinic's scheduling staff (SPEC section 12).
    MANAGE_SCHEDULES: frozenset({ADMIN, SCHEDULER}),
    # Subscriptions (their URLs and secrets, replays) and catalog bundles: "admin
    # (everything: operators, keys, webhooks, settings)" (SPEC section 12).
    MANAGE_WEBHOOKS: frozenset({ADMIN}),
    IMPORT_BUNDLES: frozenset({ADMIN}),
}


def may(role: str, permission: str) -> bool:
    return role in GRANTS[permission]
