"""The DuckDB file and its numbered migrations.

One :class:`Database` per process owns one DuckDB connection for writes. DuckDB connections
are not thread-safe, so every write goes through :meth:`Database.transaction`, which holds a
lock and wraps the block in ``BEGIN``/``COMMIT`` (``ROLLBACK`` on error). DuckDB writes its WAL
on commit, so data is durable once the block returns: a crash afterwards loses nothing.

Reads (:meth:`Database.read`) do not take that lock: each thread reads through its own cursor
(a DuckDB connection to the same database, built once per thread, used under a lock of its
own that only a refused checkpoint contends for), which sees every committed
write. So an API request never queues behind the agents' writes (with one lock for everything
the forecast route topped out at 125-150 requests/s). A read inside a transaction on the same
thread uses the transaction's connection, so it still sees the block's own uncommitted writes.

``memory_limit_mb`` bounds DuckDB's buffer manager (``SET memory_limit``). DuckDB's default is
80 % of the machine's RAM, and the pages it caches for reads and writes count in the service's
resident memory; with a bound, it evicts cached pages (or spills to its temporary directory)
instead of growing. ``None`` keeps DuckDB's default (tools that run one large query).

``allocator_background_threads`` lets DuckDB's allocator (its own jemalloc, not glibc's) give
freed pages back to the system from background threads. Without them it mostly keeps them: in
``tests/benchmarks/duckdb_allocator_rss.py`` a workload that left DuckDB accounting 28 MB had
added 48 MB of RSS, and after a checkpoint (DuckDB 12 MB) the process still held 54 MB more
than before it; with the threads, 23 MB 3 s later. DuckDB's default is off; the service turns
it on (``db_allocator_background_threads``).

``checkpoint_threshold_mb`` is the WAL size at which DuckDB checkpoints on its own (its default
is 16 MB). Until a checkpoint, the rows written since the last one and the indexes they touched
stay in DuckDB's memory; the service at 2 s collection had not written 16 MB after 10 minutes,
and DuckDB held 51 MB by then; at 1 MB (the service's ``db_checkpoint_threshold_mb``) it mostly
held 5-28 MB, once 45 MB when no checkpoint came for 5 minutes (docs/benchmarks.md, issue 17
third pass). A checkpoint writes them to the file and frees them; it does not change durability
(every commit is in the WAL before it returns either way). It runs inside the commit that
crosses the threshold: in ``tests/benchmarks/checkpoint_write_cost.py`` the slowest write round
took about 160 ms of CPU instead of 60-75, and all rounds 3 % more CPU than at 16 MB.
DuckDB skips that automatic checkpoint at times (in the service's memory watch the WAL went
past the threshold and DuckDB grew from 3 to 45 MB over 5 minutes with none), so
:meth:`Database.checkpoint_if_due`, which the service calls on every health tick, runs an
explicit ``CHECKPOINT`` when the WAL file is past the threshold. DuckDB refused that one too
while an idle reader's cursor held something open ("other write transactions active", with no
thread inside DuckDB); a statement on that cursor ended it, so a refused checkpoint first runs
one on every reader's cursor that is not reading at that moment, then tries again.

Migrations are the files ``NNN_name.sql`` in ``storage/migrations``; each is applied once, in
number order, and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from selfheal_ml.errors import StorageError

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered SQL migration."""

    number: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped in ``selfheal_ml/storage/migrations``, in number order."""
    found: list[Migration] = []
    folder = resources.files("selfheal_ml.storage") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    numbers = [m.number for m in found]
    if len(numbers) != len(set(numbers)):
        raise StorageError(f"duplicate migration numbers in {sorted(m.name for m in found)}")
    return sorted(found, key=lambda m: m.number)


class Database:
    """A DuckDB file (or ``":memory:"``) with the schema migrated to the newest version.

    >>> db = Database(":memory:")
    >>> with db.transaction() as conn:
    ...     conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 1
    True
    >>> db.close()
    """

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        memory_limit_mb: int | None = None,
        allocator_background_threads: bool = False,
        checkpoint_threshold_mb: int | None = None,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if memory_limit_mb is not None and memory_limit_mb < 1:
            raise StorageError(f"memory_limit_mb: expected at least 1, got {memory_limit_mb}")
        if checkpoint_threshold_mb is not None and checkpoint_threshold_mb < 1:
            raise StorageError(
                f"checkpoint_threshold_mb: expected at least 1, got {checkpoint_threshold_mb}"
            )
        try:
            self._conn = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StorageError(f"cannot open DuckDB file {self.path}: {exc}") from exc
        self._conn.execute("SET TimeZone = 'UTC'")
        if memory_limit_mb is not None:
            self._conn.execute(f"SET memory_limit = '{int(memory_limit_mb)}MB'")
        if allocator_background_threads:
            self._conn.execute("SET allocator_background_threads = true")
        if checkpoint_threshold_mb is not None:
            self._conn.execute(f"SET checkpoint_threshold = '{int(checkpoint_threshold_mb)}MB'")
        self._checkpoint_threshold_bytes = (  # DuckDB's MB are 10**6 bytes
            None if checkpoint_threshold_mb is None else checkpoint_threshold_mb * 1_000_000
        )
        self.forced_checkpoints = 0  # explicit CHECKPOINTs run by checkpoint_if_due
        self.refused_checkpoints = 0  # and those DuckDB refused (other write transactions)
        self._refusals_in_a_row = 0
        self.released_readers = 0  # idle readers' cursors a refused checkpoint released
        self._lock = threading.RLock()
        self._local = threading.local()  # per thread: its cursor, and its transaction depth
        # every reader's cursor with the lock its thread holds while it reads
        self._cursors: list[tuple[duckdb.DuckDBPyConnection, threading.RLock]] = []
        self._closed = False
        # readers' cursors are made from a connection of their own, under a lock of their
        # own: a reader's first read does not wait for a write transaction to end
        self._cursor_lock = threading.Lock()
        self._cursor_parent = self._conn.cursor()
        self.failed_writes = 0  # transactions DuckDB refused (full disk, unwritable file...)
        self._appenders: dict[str, duckdb.Appender] = {}  # per table, on the write connection
        if not read_only:
            self.migrate()

    def migrate(self) -> list[str]:
        """Apply every pending migration; returns the names applied."""
        applied: list[str] = []
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
            )
            rows = self._conn.execute("SELECT version FROM schema_migrations").fetchall()
            done = {int(row[0]) for row in rows}
            for migration in bundled_migrations():
                if migration.number in done:
                    continue
                with self.transaction() as conn:
                    try:
                        conn.execute(migration.sql)
                    except duckdb.Error as exc:
                        raise StorageError(f"migration {migration.name} failed: {exc}") from exc
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [migration.number, migration.name],
                    )
                applied.append(migration.name)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction under the connection lock.

        A DuckDB error anywhere in it (the block, or the commit, e.g. on a full disk) counts
        in ``failed_writes``; the transaction is rolled back and the error raised.
        """
        with self._lock:
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                try:
                    self._conn.execute("BEGIN TRANSACTION")
                except duckdb.Error:
                    self.failed_writes += 1
                    raise
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException as exc:
                    if isinstance(exc, duckdb.Error):
                        self.failed_writes += 1
                    self._roll_back()
                    raise
            finally:
                self._local.depth -= 1

    def append(self, table: str, rows: Sequence[Sequence[object]]) -> int:
        """Append ``rows`` (tuples in the table's column order) to ``table`` in one statement,
        through a DuckDB appender kept per table; returns the number of rows.

        Outside a transaction the statement is its own transaction (committed, hence durable,
        when this returns); inside this thread's :meth:`transaction` it joins that one. Why:
        a round's score rows were an Arrow table inserted between ``BEGIN`` and ``COMMIT``,
        three statements of which DuckDB's fixed cost (about 0.4 ms of CPU each) was most of
        a small round's write; the appender takes the tuples as they are, in one statement.
        A refused append is counted in ``failed_writes`` (by the transaction when inside one),
        nothing of it is kept, and the error is raised.
        """
        if not rows:
            return 0
        with self._lock:
            appender = self._appenders.get(table)
            if appender is None:
                appender = self._appenders[table] = self._conn.appender(table)
            try:
                appender.append_rows(rows)
                appender.flush()
            except BaseException as exc:
                appender.clear()  # rows buffered before a bad one must not reach the next flush
                if isinstance(exc, duckdb.Error) and getattr(self._local, "depth", 0) == 0:
                    self.failed_writes += 1
                raise
        return len(rows)

    def _roll_back(self) -> None:
        """Roll back; a failed commit may already have ended the transaction."""
        with suppress(duckdb.Error):
            self._conn.execute("ROLLBACK")

    def probe_write(self) -> None:
        """Write and commit one row, as every store does: raises ``StorageError`` when the
        file no longer accepts writes (read-only, unwritable directory, full disk).

        The probe table is made here, not by a migration: it holds one row and no data.
        """
        try:
            with self.transaction() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS readiness_probe"
                    " (id INTEGER PRIMARY KEY, written_at TIMESTAMPTZ)"
                )
                conn.execute("INSERT OR REPLACE INTO readiness_probe VALUES (1, current_timestamp)")
        except duckdb.Error as exc:
            raise StorageError(f"write refused: {exc}") from exc

    def wal_bytes(self) -> int:
        """The size of the file's write-ahead log (0 in memory, or when it has none)."""
        if self.path == ":memory:":
            return 0
        try:
            return Path(self.path + ".wal").stat().st_size
        except FileNotFoundError:
            return 0

    def checkpoint_if_due(self) -> bool:
        """Run ``CHECKPOINT`` when the WAL is past ``checkpoint_threshold_mb``, the size at which
        DuckDB should have checkpointed on its own; returns whether it ran one.

        DuckDB checks its threshold only when a write commits, and skips the checkpoint at
        times (it will not run one while some other transactions are active), so the rows
        and indexes written since the last one can stay in memory for minutes. When DuckDB
        refuses this one too, the readers' idle cursors are released
        (:meth:`_release_idle_readers`) and it is tried once more; still refused, it is
        counted, logged and left to the next call. Either way nothing is lost: every commit
        is in the WAL already.
        """
        threshold = self._checkpoint_threshold_bytes
        if threshold is None or self.wal_bytes() < threshold:
            return False
        with self._lock:
            if self._closed:
                return False
            try:
                try:
                    self._conn.execute("CHECKPOINT")
                except duckdb.Error:
                    if not self._release_idle_readers():
                        raise
                    self._conn.execute("CHECKPOINT")
            except duckdb.Error as exc:
                self.refused_checkpoints += 1
                streak = self._refusals_in_a_row = self._refusals_in_a_row + 1
                (log.info if streak == 1 else log.debug)(
                    "CHECKPOINT of %s refused (%d in a row), retried on the next tick: %s",
                    self.path, streak, exc,
                )  # fmt: skip
                return False
        self._refusals_in_a_row = 0
        self.forced_checkpoints += 1
        return True

    def _release_idle_readers(self) -> int:
        """Run one trivial statement on every reader's cursor not in use now; returns how many.

        What blocked the service's checkpoints for minutes was a reader's cursor between two
        reads: DuckDB refused ``CHECKPOINT`` ("other write transactions active") while no
        thread was inside DuckDB, and a statement run on that thread's idle cursor (which ends
        whatever its last query left open) let the checkpoint through at once. Which read
        leaves that state behind was not found; this ends it from the checkpointing thread,
        one idle cursor at a time under the lock its own thread reads under.
        """
        released = 0
        with self._cursor_lock:
            readers = list(self._cursors)
        for cursor, in_use in readers:
            if not in_use.acquire(blocking=False):
                continue  # reading now: its query ends on its own
            try:
                cursor.execute("SELECT 1").fetchall()
                released += 1
            except duckdb.Error as exc:
                log.debug("releasing a reader's cursor of %s: %s", self.path, exc)
            finally:
                in_use.release()
        self.released_readers += released
        return released

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reads (no transaction): this thread's own cursor, under a lock
        of its own that only :meth:`checkpoint_if_due` ever contends for."""
        if getattr(self._local, "depth", 0) > 0:  # inside this thread's transaction
            yield self._conn
            return
        cursor, in_use = self._cursor()
        with in_use:
            yield cursor

    def _cursor(self) -> tuple[duckdb.DuckDBPyConnection, threading.RLock]:
        reader: tuple[duckdb.DuckDBPyConnection, threading.RLock] | None = getattr(
            self._local, "reader", None
        )
        if reader is None:
            with self._cursor_lock:  # the parent connection is not thread-safe
                if self._closed:
                    raise StorageError(f"DuckDB file {self.path} is closed")
                cursor = self._cursor_parent.cursor()
                cursor.execute("SET TimeZone = 'UTC'")
                reader = (cursor, threading.RLock())
                self._cursors.append(reader)
            self._local.reader = reader
        return reader

    def close(self) -> None:
        """Checkpoint and close the file (the readers' cursors first)."""
        with self._lock, self._cursor_lock:
            self._closed = True
            self._appenders.clear()
            for cursor, _ in self._cursors:
                cursor.close()
            self._cursors.clear()
            self._cursor_parent.close()
            self._conn.close()
