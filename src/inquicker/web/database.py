"""A database that is locked, slow or gone is a 503 with Retry-After, never a 500 or a hang.

The waits are bounded where they happen (SQLite's busy timeout, PostgreSQL's lock_timeout
and statement_timeout, the pool's checkout timeout: see ``db.engine.DbTimeouts``); this
module turns what those bounds raise into the answer.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from inquicker.jsonapi.errors import ApiError, ErrorObject

log = logging.getLogger("inquicker.database")

RETRY_AFTER_SECONDS = 2


def unavailable_error(exc: BaseException) -> ApiError | None:
    """The 503 for a database failure that retrying later may cure; None for anything else.

    Every OperationalError qualifies: locks, timeouts, cancelled statements, lost
    connections, a serialization failure that outlived its retries. Only the error's class
    and SQLSTATE are logged: a driver's message can quote statement parameters.
    """
    if not isinstance(exc, OperationalError | PoolTimeoutError):
        return None
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    log.warning(
        "database unavailable",
        extra={"error": type(getattr(exc, "orig", exc)).__name__, "sqlstate": sqlstate},
    )
    return ApiError(
        [
            ErrorObject(
                503,
                "database-unavailable",
                "Service unavailable",
                "The database is busy or unavailable; retry the request shortly.",
            )
        ],
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
