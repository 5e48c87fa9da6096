"""Names for recommended indexes that stay distinct after PostgreSQL's 63-byte limit.

PostgreSQL cuts identifiers to 63 bytes. Cutting ``<table>_<columns>_idx`` there made two
long table names yield the same index name, so the second ``CREATE INDEX IF NOT EXISTS``
was silently skipped. A name that fits is kept as it reads; a longer one keeps a readable
prefix and ends in a hash of the full ``schema.table(columns)``, so different indexes get
different names however long their tables.

>>> index_name("orders", ["customer_id"])
'orders_customer_id_idx'
>>> first = index_name("a" * 60 + "_one", ["id"])
>>> second = index_name("a" * 60 + "_two", ["id"])
>>> first != second, len(first.encode()) <= 63
(True, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

MAX_IDENTIFIER_BYTES = 63
_HASH_CHARACTERS = 10


def _cut_to_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` UTF-8 bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def index_name(table: str, columns: Sequence[str], schema: str = "") -> str:
    """``<table>_<columns>_idx``, or a hashed form of it when longer than 63 bytes."""
    readable = f"{table}_{'_'.join(columns)}_idx"
    if len(readable.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return readable
    identity = f"{schema}.{table}({','.join(columns)})"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:_HASH_CHARACTERS]
    suffix = f"_{digest}_idx"
    prefix = _cut_to_bytes(readable, MAX_IDENTIFIER_BYTES - len(suffix)).rstrip("_")
    return prefix + suffix
