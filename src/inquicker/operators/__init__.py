"""Operators: the health system's staff. Accounts, roles, sessions, tokens, the audit log
and the operator JSON API (SPEC section 12)."""
