"""Performance problems planted in a fresh PostgreSQL database, with the workload that shows them.

Shared by the integration tests and ``pipelines/measure_postgres_analysis.py``: a
:class:`PlantPlan` (from a seed: table names, sizes, which problems) becomes a database
(:func:`create_database`, name prefixed ``perf_``) with

- a **clean** shop schema, every secondary index used by the clean traffic:
  ``<customers>`` (lookup by primary key and by indexed ``email``), ``<orders>`` (indexed
  ``customer_id``), ``<items>`` (indexed ``order_id``);
- ``missing_index``: tables ``<events_k>`` of many rows queried by a selective column that no
  index serves;
- ``unused_index``: an index of ``<customers>`` no query uses;
- ``duplicate_index``: a second index with the same leading column as ``<customers>``'s
  ``email`` index;
- ``slow_query``: a report that sleeps (``pg_sleep``) 150-300 ms;
- ``n_plus_one``: requests that load a customer's orders, then each order's items one query
  at a time.

Every workload, clean ones included, also carries **near misses** that must not be reported:
an unselective filter on a big table (``<logs>.level``, three values: an index would not be
used), a filter on an unindexed column of a small table (``<regions>``, below the size worth
an index), a report that takes 40-70 ms (under the slow threshold), and requests that run one
query twice.

Every request carries a sqlcommenter ``traceparent`` comment, as instrumented applications
send. :func:`run_workload` drives the traffic in threads until told to stop;
:func:`expected_findings` says which ``(kind, table)`` an analysis should report.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

KINDS = ("missing_index", "unused_index", "duplicate_index", "slow_query", "n_plus_one")
_WORDS = ("shop", "crm", "ledger", "portal", "mart", "desk", "fleet", "atlas", "orbit", "relay")


@dataclass(frozen=True)
class PlantPlan:
    """What one seed plants: names, sizes, problems (``kinds``), how queries are sent."""

    seed: int
    kinds: frozenset[str]
    prefix: str
    customers: int
    orders_per_customer: int
    events_rows: tuple[int, ...]
    client_side_binding: bool
    exact_duplicate: bool

    @classmethod
    def from_seed(cls, seed: int, kinds: frozenset[str] | None = None) -> PlantPlan:
        """A plan whose names and sizes vary with ``seed`` (``kinds``: all by default)."""
        rng = random.Random(seed)
        chosen = frozenset(KINDS) if kinds is None else kinds
        missing_tables = rng.randint(1, 3) if "missing_index" in chosen else 0
        return cls(
            seed=seed,
            kinds=chosen,
            prefix=f"{rng.choice(_WORDS)}{seed % 1000}",
            customers=rng.randint(2_000, 6_000),
            orders_per_customer=rng.randint(3, 6),
            events_rows=tuple(rng.randint(30_000, 90_000) for _ in range(missing_tables)),
            client_side_binding=rng.random() < 0.5,
            exact_duplicate=rng.random() < 0.5,
        )

    @property
    def customers_table(self) -> str:
        """The customers table's name."""
        return f"{self.prefix}_customers"

    @property
    def orders_table(self) -> str:
        """The orders table's name."""
        return f"{self.prefix}_orders"

    @property
    def items_table(self) -> str:
        """The order items table's name."""
        return f"{self.prefix}_items"

    @property
    def logs_table(self) -> str:
        """The big table only ever filtered unselectively (a near miss)."""
        return f"{self.prefix}_logs"

    @property
    def regions_table(self) -> str:
        """The small table filtered on an unindexed column (a near miss)."""
        return f"{self.prefix}_regions"

    def events_table(self, number: int) -> str:
        """The name of the ``number``-th table lacking an index."""
        return f"{self.prefix}_events{number}"


def expected_findings(plan: PlantPlan) -> set[tuple[str, str | None]]:
    """The ``(kind, table)`` pairs an analysis of the planted workload should report (tables
    are ``None`` for query kinds, which name no table)."""
    expected: set[tuple[str, str | None]] = set()
    for number in range(len(plan.events_rows)):
        expected.add(("missing_index", plan.events_table(number)))
    if "unused_index" in plan.kinds:
        expected.add(("unused_index", plan.customers_table))
    if "duplicate_index" in plan.kinds:
        expected.add(("duplicate_index", plan.customers_table))
    if "slow_query" in plan.kinds:
        expected.add(("slow_query", None))
    if "n_plus_one" in plan.kinds:
        expected.add(("n_plus_one", None))
    return expected


def with_database(dsn: str, database: str) -> str:
    """``dsn`` (a URL) pointed at ``database``."""
    base, _, query = dsn.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{head}/{database}" + (f"?{query}" if query else "")


@contextmanager
def create_database(admin_dsn: str, label: str = "plant") -> Iterator[str]:
    """A fresh database ``perf_<label>_<random>``, dropped on exit; yields its DSN."""
    name = f"perf_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_dsn, name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _shop_statements(plan: PlantPlan) -> list[str]:
    """The clean schema: customers, orders, items, each secondary index used by the traffic."""
    customers, orders, items = plan.customers_table, plan.orders_table, plan.items_table
    order_count = plan.customers * plan.orders_per_customer
    return [
        f"CREATE TABLE {customers} (id bigint PRIMARY KEY, email text NOT NULL,"
        " region text NOT NULL, created_at timestamptz NOT NULL)",
        f"INSERT INTO {customers} SELECT g, 'user' || g || '@example.com',"
        f" (ARRAY['eu','us','apac'])[1 + g % 3], now() - g * interval '1 minute'"
        f" FROM generate_series(1, {plan.customers}) AS g",
        f"CREATE INDEX {customers}_email_idx ON {customers} (email)",
        f"CREATE TABLE {orders} (id bigint PRIMARY KEY, customer_id bigint NOT NULL,"
        " total numeric NOT NULL)",
        f"INSERT INTO {orders} SELECT g, 1 + g % {plan.customers}, (g % 500) / 3.0"
        f" FROM generate_series(1, {order_count}) AS g",
        f"CREATE INDEX {orders}_customer_idx ON {orders} (customer_id)",
        f"CREATE TABLE {items} (id bigserial PRIMARY KEY, order_id bigint NOT NULL,"
        " sku text NOT NULL)",
        f"INSERT INTO {items} (order_id, sku) SELECT 1 + g % {order_count}, 'sku' || g % 97"
        f" FROM generate_series(1, {2 * order_count}) AS g",
        f"CREATE INDEX {items}_order_idx ON {items} (order_id)",
    ]


def _near_miss_statements(plan: PlantPlan, rng: random.Random) -> list[str]:
    """A big table filtered unselectively and a small one filtered without an index."""
    logs, regions = plan.logs_table, plan.regions_table
    return [
        f"CREATE TABLE {logs} (id bigserial PRIMARY KEY, level text NOT NULL, line text NOT NULL)",
        f"INSERT INTO {logs} (level, line) SELECT (ARRAY['info','warn','error'])[1 + g % 3],"
        f" md5(g::text) FROM generate_series(1, {rng.randint(30_000, 60_000)}) AS g",
        f"CREATE TABLE {regions} (id int PRIMARY KEY, code text NOT NULL, name text NOT NULL)",
        f"INSERT INTO {regions} SELECT g, 'r' || g, 'region ' || g"
        f" FROM generate_series(1, {rng.randint(200, 900)}) AS g",
    ]


def _problem_statements(plan: PlantPlan, rng: random.Random) -> list[str]:
    """The planted schema problems: tables lacking an index, an unused and a duplicate one."""
    statements: list[str] = []
    for number, rows in enumerate(plan.events_rows):
        table = plan.events_table(number)
        accounts = rng.randint(2_000, 8_000)
        statements += [
            f"CREATE TABLE {table} (id bigserial PRIMARY KEY, account_id bigint NOT NULL,"
            " kind text NOT NULL, payload text NOT NULL)",
            f"INSERT INTO {table} (account_id, kind, payload) SELECT g % {accounts},"
            f" (ARRAY['view','click','buy'])[1 + g % 3], md5(g::text)"
            f" FROM generate_series(1, {rows}) AS g",
        ]
    customers = plan.customers_table
    if "unused_index" in plan.kinds:
        statements.append(f"CREATE INDEX {customers}_created_idx ON {customers} (created_at)")
    if "duplicate_index" in plan.kinds:
        columns = "email" if plan.exact_duplicate else "email, region"
        statements.append(f"CREATE INDEX {customers}_email_copy_idx ON {customers} ({columns})")
    return statements


def plant(dsn: str, plan: PlantPlan, extensions: tuple[str, ...] = ()) -> None:
    """Create the plan's tables, data and indexes in the (fresh) database at ``dsn``, then
    ``ANALYZE`` them; ``extensions`` (e.g. ``hypopg``) are created first."""
    rng = random.Random(plan.seed)
    statements = [f"CREATE EXTENSION IF NOT EXISTS {name}" for name in extensions]
    statements += _shop_statements(plan)
    statements += _near_miss_statements(plan, rng)
    statements += _problem_statements(plan, rng)
    with psycopg.connect(dsn, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.execute("ANALYZE")


def _traceparent() -> str:
    return f"/*traceparent='00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01'*/"


@dataclass
class _Traffic:
    plan: PlantPlan
    rng: random.Random

    def customer(self) -> int:
        return self.rng.randint(1, self.plan.customers)

    def clean(self, cursor: Any, trace: str) -> None:
        """One ordinary request: every query indexed, each once."""
        p = self.plan
        customer = self.customer()
        cursor.execute(f"SELECT * FROM {p.customers_table} WHERE id = %s {trace}", (customer,))
        email = f"user{self.customer()}@example.com"
        cursor.execute(f"SELECT id FROM {p.customers_table} WHERE email = %s {trace}", (email,))
        cursor.execute(
            f"SELECT id, total FROM {p.orders_table} WHERE customer_id = %s {trace}", (customer,)
        )
        orders = [row[0] for row in cursor.fetchall()]
        if orders:  # the first order's lines, in one query: no loop
            cursor.execute(
                f"SELECT sku FROM {p.items_table} WHERE order_id = %s {trace}", (orders[0],)
            )
            cursor.fetchall()

    def near_misses(self, cursor: Any, trace: str) -> None:
        """Requests that look like problems and are not (see module doc)."""
        p = self.plan
        level = self.rng.choice(("info", "warn", "error"))
        cursor.execute(f"SELECT count(*) FROM {p.logs_table} WHERE level = %s {trace}", (level,))
        code = f"r{self.rng.randint(1, 200)}"
        cursor.execute(f"SELECT id FROM {p.regions_table} WHERE code = %s {trace}", (code,))
        cursor.fetchall()
        pause = 0.04 + self.rng.random() * 0.03
        cursor.execute(f"SELECT pg_sleep(%s), count(*) FROM {p.regions_table} {trace}", (pause,))
        customer = self.customer()
        for _ in range(2):  # the same query twice in one request: no loop
            cursor.execute(
                f"SELECT email FROM {p.customers_table} WHERE id = %s {trace}", (customer,)
            )
            cursor.fetchall()

    def missing(self, cursor: Any, trace: str, number: int) -> None:
        account = self.rng.randint(0, 2_000)
        cursor.execute(
            f"SELECT id, kind FROM {self.plan.events_table(number)} WHERE account_id = %s {trace}",
            (account,),
        )
        cursor.fetchall()

    def slow(self, cursor: Any, trace: str) -> None:
        pause = 0.15 + self.rng.random() * 0.15
        cursor.execute(
            f"SELECT count(*), pg_sleep(%s) FROM {self.plan.customers_table} WHERE id < 50 {trace}",
            (pause,),
        )

    def n_plus_one(self, cursor: Any, trace: str) -> None:
        p = self.plan
        cursor.execute(
            f"SELECT id FROM {p.orders_table} WHERE customer_id = %s {trace}", (self.customer(),)
        )
        orders = [row[0] for row in cursor.fetchall()]
        for order in (orders * 40)[:120]:  # a page of rows, one query each
            cursor.execute(f"SELECT sku FROM {p.items_table} WHERE order_id = %s {trace}", (order,))
            cursor.fetchall()
            time.sleep(0.003)  # the application renders the row


def _loop(
    dsn: str,
    plan: PlantPlan,
    stop: threading.Event,
    step: Callable[..., None],
    pause_s: float,
    *arguments: Any,
) -> None:
    cursor_factory = psycopg.ClientCursor if plan.client_side_binding else psycopg.Cursor
    with psycopg.connect(
        dsn, autocommit=True, application_name="perf-workload", cursor_factory=cursor_factory
    ) as connection:
        cursor = connection.cursor()
        while not stop.is_set():
            step(cursor, _traceparent(), *arguments)
            stop.wait(pause_s)


@contextmanager
def run_workload(dsn: str, plan: PlantPlan) -> Iterator[None]:
    """The plan's traffic in background threads while the block runs."""
    stop = threading.Event()
    traffic = _Traffic(plan, random.Random(plan.seed + 1))
    jobs: list[tuple[Callable[..., None], float, tuple[Any, ...]]] = [
        (traffic.clean, 0.01, ()),
        (traffic.near_misses, 0.05, ()),
    ]
    jobs += [(traffic.missing, 0.03, (number,)) for number in range(len(plan.events_rows))]
    if "slow_query" in plan.kinds:
        jobs.append((traffic.slow, 0.2, ()))
    if "n_plus_one" in plan.kinds:
        jobs.append((traffic.n_plus_one, 0.1, ()))
    threads = [
        threading.Thread(target=_loop, args=(dsn, plan, stop, step, pause, *arguments), daemon=True)
        for step, pause, arguments in jobs
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10.0)
