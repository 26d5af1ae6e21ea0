"""This process's catalog-change generation: what it committed is served at once.

Other processes learn of a change from the health system's ``data_version`` (bumped by
every import) within the freshness window of ``tenancy.directory``. The process that made
the change must not wait for that window: every commit that wrote catalog or tenancy rows
through the ORM, or that a writer marked with ``mark_changed`` (the importer's bulk Core
writes), bumps this generation, and every in-process memo of tenants, keys and rendered
documents made under an older generation is discarded.
"""

from __future__ import annotations

import itertools
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

_FLAG = "inquicker.catalog_changed"
_BEGUN = "inquicker.generation_at_begin"
# Bookkeeping rows that bookings write: they never change what the catalog reads return.
_BOOKKEEPING_TABLES = frozenset({"visits", "visit_tokens", "seat_claims"})

_counter = itertools.count(1)
_current = 0
_lock = threading.Lock()


def generation() -> int:
    """The current generation; compare with the one a memo entry was made under."""
    return _current


def note_change() -> None:
    """Invalidate every in-process memo of catalog-derived values."""
    global _current
    with _lock:
        _current = next(_counter)


def generation_read_by(session: Session) -> int:
    """The generation to remember what ``session`` reads under: the one current when its
    transaction began (a SQLite transaction reads one snapshot, which may predate a change
    noted since), or the current one if it has not read anything yet."""
    found: int = session.info.get(_BEGUN, _current)
    return found


def mark_changed(session: Session) -> None:
    """The session's transaction changes the catalog: note it when it commits."""
    session.info[_FLAG] = True


def _is_catalog(instance: object) -> bool:
    table = getattr(instance, "__tablename__", None)
    return table is not None and table not in _BOOKKEEPING_TABLES


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, _: object, __: object) -> None:
    session.info.setdefault(_BEGUN, _current)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next transaction reads anew
        session.info.pop(_BEGUN, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _: UOWTransaction) -> None:
    if any(_is_catalog(obj) for obj in (*session.new, *session.dirty, *session.deleted)):
        mark_changed(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        note_change()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _: object) -> None:
    if not session.in_transaction():  # a savepoint's rollback keeps the outer marks
        session.info.pop(_FLAG, None)
