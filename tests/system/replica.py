"""A real PostgreSQL streaming replica of the test server, for the read-replica tests.

``pg_basebackup -R`` copies the server named by ``INQUICKER_TEST_PG_URL`` into a temporary
directory, which is then started as a hot standby on a free port (with the server binaries
of the primary's own major version, Debian's ``/usr/lib/postgresql/<major>/bin``) and
removed afterwards. PostgreSQL refuses to run as root, so as root the replica runs as the
``postgres`` OS user.

The primary must accept replication connections from 127.0.0.1. Debian's default
``pg_hba.conf`` does not (its ``all`` does not cover ``replication``), so when the server's
``hba_file`` is a file this process may write (the CI machine: root, the server on the same
host) one line is appended, once, and the configuration reloaded:

    host replication postgres 127.0.0.1/32 trust

It only lets the ``postgres`` user of this host open replication connections, as it may
already open any other; no other test is affected. ``wal_level`` and ``max_wal_senders``
need a restart to change, so they are checked, never changed (Debian's defaults suffice).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import URL, make_url

from tests.reliability.servers import free_port

HBA_LINE = "host replication postgres 127.0.0.1/32 trust"
HBA_NOTE = "# Added by the InQuicker test suite (tests/system/replica.py): streaming-replica tests"
# Settings a hot standby must have at least as high as its primary, or it refuses to start.
MATCHED_SETTINGS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
STEP_SECONDS = 120
# Replication slots of these tests: the prefix, then the test process id.
SLOT_PREFIX = "iq_test_replica_"
# The first line of a log entry (log_line_prefix below: time, process id, database).
ENTRY = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] db=")


class ReplicaUnavailableError(Exception):
    """This machine cannot run a streaming replica of the test server (the reason)."""


@dataclass
class Replica:
    """A running hot standby of the primary; ``url`` names the same database on it."""

    bindir: Path
    datadir: Path
    port: int
    primary: URL

    @property
    def log(self) -> Path:
        return self.datadir / "server.log"

    def url(self, database: str) -> str:
        return self.primary.set(port=self.port, database=database).render_as_string(
            hide_password=False
        )

    def start(self) -> None:
        self._ctl("-l", str(self.log), "-t", "60", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def kill(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "stop")

    def _ctl(self, *args: str) -> None:
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", *args])

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection to the replica's ``postgres`` database."""
        return psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True)

    def statements(self, database: str, since: int) -> list[str]:
        """The statements the replica ran in ``database`` since the log was ``since`` bytes
        long (``log_statement = all``, every line prefixed with its database name)."""
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        # A statement's text continues on the lines after its prefixed first line.
        entries: list[str] = []
        for line in text.splitlines():
            if ENTRY.match(line) or not entries:
                entries.append(line)
            else:
                entries[-1] += "\n" + line
        marker = f" db={database} "
        return [
            entry
            for entry in entries
            if marker in entry and ("statement: " in entry or "execute " in entry)
        ]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary had written when called."""
        with psycopg.connect(_libpq(self.primary), autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
            assert row is not None
            target = row[0]
        deadline = time.monotonic() + timeout
        with self.connect() as conn:
            while True:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if row is not None and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"replica did not replay up to {target} in {timeout}s")
                time.sleep(0.02)


@contextmanager
def streaming_replica(primary_url: str) -> Iterator[Replica]:
    """A hot standby of the server at ``primary_url``, stopped and removed afterwards.

    Raises ReplicaUnavailableError, before starting anything, when this machine cannot run one.
    """
    primary = make_url(primary_url).set(drivername="postgresql", database="postgres")
    bindir, settings = _inspect_primary(primary)
    _allow_replication(primary)
    _drop_abandoned_slots(primary)
    datadir = Path(tempfile.mkdtemp(prefix="iq-replica-"))
    owner = _server_user()
    replica = Replica(bindir, datadir / "data", free_port(), primary)
    slot = f"{SLOT_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        if owner is not None:
            os.chown(datadir, owner.pw_uid, owner.pw_gid)
        # -C -S: a replication slot made before the backup starts keeps the primary's WAL
        # from then on (without it, checkpoints forced by concurrent test runs removed a
        # segment the backup still had to stream); -R: configured as a standby of the
        # primary, using that slot; -c fast: checkpoint now, not spread over minutes;
        # --no-sync: a throwaway copy needs no fsync.
        backup = ["-C", "-S", slot, "-R", "-X", "stream", "-c", "fast", "--no-sync"]
        command = [str(bindir / "pg_basebackup"), "-d", _libpq(primary)]
        _run([*command, "-D", str(replica.datadir), *backup])
        _configure(replica, settings)
        replica.start()
        yield replica
    finally:
        try:
            replica.kill()
        finally:
            shutil.rmtree(datadir, ignore_errors=True)
            _drop_slot(primary, slot)


def _drop_slot(primary: URL, slot: str) -> None:
    """Drop the replica's slot (once its walsender has gone): a slot left behind would keep
    the primary's WAL forever."""
    deadline = time.monotonic() + 30
    with psycopg.connect(_libpq(primary), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            ).fetchone()
            if row is None:
                return  # never made (the backup failed first), or dropped
            if row[0] is not None:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
            try:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def _drop_abandoned_slots(primary: URL) -> None:
    """Drop the inactive slots of test processes of this host that died before dropping
    their own (the process id is in the slot's name)."""
    with psycopg.connect(_libpq(primary), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE %s",
            (SLOT_PREFIX + "%",),
        ).fetchall()
        for (name,) in rows:
            pid = str(name).removeprefix(SLOT_PREFIX).split("_")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name = %s AND NOT active",
                    (name,),
                )


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _inspect_primary(primary: URL) -> tuple[Path, dict[str, str]]:
    try:
        conn = psycopg.connect(_libpq(primary), autocommit=True)
    except psycopg.OperationalError as exc:
        raise ReplicaUnavailableError(f"PostgreSQL not reachable at {primary}: {exc}") from None
    with conn:
        names = ("server_version_num", "wal_level", "max_wal_senders", *MATCHED_SETTINGS)
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)
        ).fetchall()
        version = conn.execute("SHOW server_version_num").fetchone()
    settings = {str(name): str(value) for name, value in rows}
    assert version is not None
    major = int(str(version[0])) // 10000
    if settings.get("wal_level") not in ("replica", "logical"):
        raise ReplicaUnavailableError(
            "the primary's wal_level is minimal (a restart would be needed)"
        )
    if int(settings.get("max_wal_senders", "0")) < 1:
        raise ReplicaUnavailableError(
            "the primary's max_wal_senders is 0 (a restart would be needed)"
        )
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    for tool in ("pg_basebackup", "pg_ctl", "postgres"):
        if not (bindir / tool).exists():
            raise ReplicaUnavailableError(
                f"{bindir / tool} is missing (Debian's postgresql-{major})"
            )
    if os.geteuid() == 0 and _server_user() is None:
        raise ReplicaUnavailableError(
            "running as root without a 'postgres' user to run the replica"
        )
    return bindir, settings


def _allow_replication(primary: URL) -> None:
    """Make sure the primary takes replication connections from this host (see module doc)."""
    if _replication_allowed(primary):
        return
    with psycopg.connect(_libpq(primary), autocommit=True) as conn:
        row = conn.execute("SHOW hba_file").fetchone()
    assert row is not None
    hba = Path(str(row[0]))
    # Several test processes may get here at once: one appends, the others find it done.
    with open(tempfile.gettempdir() + "/inquicker-test-pg-hba.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            present = HBA_LINE in hba.read_text()
            if not present:
                with hba.open("a") as file:
                    file.write(f"\n{HBA_NOTE}\n{HBA_LINE}\n")
        except OSError as exc:
            raise ReplicaUnavailableError(
                f"the primary refuses replication connections and {hba} cannot be changed "
                f"here ({exc.strerror}); add '{HBA_LINE}' to it and reload"
            ) from None
        with psycopg.connect(_libpq(primary), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while not _replication_allowed(primary):
            if time.monotonic() > deadline:
                raise ReplicaUnavailableError(f"replication still refused after adding it to {hba}")
            time.sleep(0.1)


def _replication_allowed(primary: URL) -> bool:
    try:
        with psycopg.connect(_libpq(primary), replication="true", autocommit=True) as conn:
            conn.execute("IDENTIFY_SYSTEM")
    except psycopg.OperationalError:
        return False
    return True


def _configure(replica: Replica, primary_settings: dict[str, str]) -> None:
    data = replica.datadir
    lines = [
        f"port = {replica.port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{data}'",
        "hot_standby = on",
        # Replay must not cancel the tests' reads, and the data is thrown away after.
        "hot_standby_feedback = on",
        "fsync = off",
        "shared_buffers = 16MB",
        # The replica-side count of what it served: every statement, with its database.
        "log_statement = 'all'",
        "log_line_prefix = '%m [%p] db=%d '",
        *(f"{name} = {primary_settings[name]}" for name in MATCHED_SETTINGS),
    ]
    (data / "postgresql.conf").write_text("\n".join(lines) + "\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    # Keep only what -R wrote: settings the primary got by ALTER SYSTEM are not the replica's.
    auto = data / "postgresql.auto.conf"
    kept = [
        line
        for line in auto.read_text().splitlines()
        if line.startswith(("primary_conninfo", "primary_slot_name"))
    ]
    auto.write_text("\n".join(kept) + "\n")
    user = _server_user()
    if user is not None:
        for path in (data / "postgresql.conf", data / "pg_hba.conf", data / "pg_ident.conf", auto):
            os.chown(path, user.pw_uid, user.pw_gid)


def _server_user() -> pwd.struct_passwd | None:
    """The OS user to run the replica as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def _run(args: list[str]) -> None:
    user = _server_user()
    command = ["runuser", "-u", user.pw_name, "--", *args] if user is not None else args
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=STEP_SECONDS, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
