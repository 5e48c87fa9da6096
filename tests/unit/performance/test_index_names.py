"""Index names: readable when they fit, distinct and within 63 bytes when they do not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.actions.postgres import build_create_index
from selfheal_ml.performance.index_names import MAX_IDENTIFIER_BYTES, index_name

TABLES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé_", min_size=1, max_size=90)
COLUMNS = st.lists(st.from_regex(r"[a-z_]{1,20}", fullmatch=True), min_size=1, max_size=3)


@given(TABLES, COLUMNS)
def test_every_name_fits_postgres(table: str, columns: list[str]) -> None:
    assert len(index_name(table, columns).encode("utf-8")) <= MAX_IDENTIFIER_BYTES


@given(TABLES, TABLES, COLUMNS)
def test_long_names_of_different_tables_differ(first: str, second: str, columns: list[str]) -> None:
    def too_long(table: str) -> bool:
        return len(f"{table}_{'_'.join(columns)}_idx".encode()) > MAX_IDENTIFIER_BYTES

    if first != second and (too_long(first) or too_long(second)):
        assert index_name(first, columns) != index_name(second, columns)


def test_the_reported_collision_is_gone() -> None:
    prefix = "customer_order_line_items_archive_partitioned_by_month_"
    first, _ = build_create_index({"table": prefix + "2025", "columns": ["customer_id"]})
    second, _ = build_create_index({"table": prefix + "2026", "columns": ["customer_id"]})
    assert first.as_string() != second.as_string()
    assert build_create_index({"table": "orders", "columns": ["id"]})[1] == "orders_id_idx"
