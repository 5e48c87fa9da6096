"""A small cache of read results, invalidated by the writes that change them.

The forecast route and the dashboard asked DuckDB the same questions on every request (a query
and a pandas conversion per forecast, a repair summary per dashboard refresh), though the
answers only change when the forecaster or the repair log writes. A store keeps a
:class:`ReadCache`, answers reads through :meth:`ReadCache.get`, and calls
:meth:`ReadCache.invalidate` after each write that changes them. A read that raced with a
write (started before the invalidation, finished after) is returned but not kept, so a stale
answer is never cached. The oldest entry goes once ``max_entries`` are held.

>>> cache: ReadCache[str, int] = ReadCache(max_entries=2)
>>> loads = []
>>> def load(key: str) -> int:
...     loads.append(key)
...     return len(key)
>>> cache.get("abc", load), cache.get("abc", load), loads
(3, 3, ['abc'])
>>> cache.invalidate("abc"); cache.get("abc", load), loads
(3, ['abc', 'abc'])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class ReadCache(Generic[Key, Value]):
    """Thread-safe, bounded, least-recently-used map of read results (see module doc)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Value] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Key, load: Callable[[Key], Value]) -> Value:
        """The cached value of ``key``, else ``load(key)`` (kept unless a write came meanwhile)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
            generation = self._generation
        value = load(key)
        with self._lock:
            if generation == self._generation:
                self._entries[key] = value
                if len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def invalidate(self, key: Key | None = None) -> None:
        """Forget ``key`` (every key when ``None``) after a write that changed it."""
        with self._lock:
            self._generation += 1
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
