"""Sparse integer counts in two sorted columns: ``array("q")`` keys and ``array("I")`` counts.

A ``dict`` of Python ints costs about 80 bytes an entry (its slot, a boxed key and a boxed
count); the sequence-surprise tables of a series hold several hundred entries, so a dict made
them the largest part of a series' state after the calibrators. :class:`SparseCounts` keeps
the keys sorted in one array and the counts beside them in another, and finds a key by binary
search (``bisect``, in C). Keys that do not fit 64 bits (bins of absurdly far values) go to a
small dict, so every integer key is exact. The counts are unsigned 32-bit (12 bytes an entry,
not 16: issue 20); a count that would pass 2**32 - 1 (136 years of points at one a second)
widens the column to 64 bits, so every count stays exact.

>>> counts = SparseCounts()
>>> counts.add(7, 2); counts.add(3, 1); counts.add(7, 1); counts.add(2**80, 5)
>>> counts.get(7), counts.get(3), counts.get(4), counts.get(2**80), len(counts)
(3, 1, 0, 5, 3)
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
COUNT_TYPECODE = "I"  # unsigned 32 bits (issue 20); "q" once a count outgrows it


class SparseCounts:
    """A map from integer keys to non-negative counts (0 for a key never added)."""

    __slots__ = ("_counts", "_keys", "_large")

    def __init__(self) -> None:
        self._keys = array("q")
        self._counts = array(COUNT_TYPECODE)
        self._large: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._large)

    def __getstate__(self) -> tuple[bytes, bytes, dict[int, int], str]:
        return self._keys.tobytes(), self._counts.tobytes(), self._large, self._counts.typecode

    def __setstate__(
        self, state: tuple[bytes, bytes, dict[int, int]] | tuple[bytes, bytes, dict[int, int], str]
    ) -> None:
        """Unpickle; a snapshot from before issue 20 (three items) holds 64-bit counts, which
        are narrowed to 32 bits when they all fit."""
        keys, counts, self._large = state[0], state[1], state[2]
        typecode = state[3] if len(state) == 4 else "q"
        self._keys, self._counts = array("q"), array(typecode)
        self._keys.frombytes(keys)
        self._counts.frombytes(counts)
        if typecode != COUNT_TYPECODE and max(self._counts, default=0) <= 2**32 - 1:
            self._counts = array(COUNT_TYPECODE, self._counts)

    def _widen_counts(self) -> None:
        """A count outgrew 32 bits: the column becomes 64-bit (values unchanged)."""
        self._counts = array("q", self._counts)

    def get(self, key: int) -> int:
        """The count of ``key`` (0 if never added)."""
        keys = self._keys
        if _INT64_MIN <= key <= _INT64_MAX:
            index = bisect_left(keys, key)
            return self._counts[index] if index < len(keys) and keys[index] == key else 0
        return self._large.get(key, 0)

    def get_three(self, first: int, second: int, third: int) -> tuple[int, int, int]:
        """The counts of three keys in one call (sequence surprise asks for a bin and its two
        neighbours on every point; one call instead of three is a tenth of its cost).

        >>> counts = SparseCounts()
        >>> counts.add(4, 2); counts.add(9, 1)
        >>> counts.get_three(4, 5, 9)
        (2, 0, 1)
        """
        if self._large:  # some key beyond 64 bits exists: the general path
            return self.get(first), self.get(second), self.get(third)
        # otherwise every key is in the sorted column (a key beyond 64 bits is simply not found)
        keys, counts, size = self._keys, self._counts, len(self._keys)
        index = bisect_left(keys, first)
        at_first = counts[index] if index < size and keys[index] == first else 0
        index = bisect_left(keys, second)
        at_second = counts[index] if index < size and keys[index] == second else 0
        index = bisect_left(keys, third)
        return at_first, at_second, counts[index] if index < size and keys[index] == third else 0

    def add(self, key: int, count: int) -> None:
        """Add ``count`` to the count of ``key``."""
        if not _INT64_MIN <= key <= _INT64_MAX:
            self._large[key] = self._large.get(key, 0) + count
            return
        keys = self._keys
        index = bisect_left(keys, key)
        try:
            if index < len(keys) and keys[index] == key:
                self._counts[index] += count
            else:
                self._counts.insert(index, count)  # before the key: a failure leaves both
                keys.insert(index, key)
        except OverflowError:
            self._widen_counts()
            self.add(key, count)

    def contains(self, key: int) -> bool:
        """Whether ``key`` was ever added."""
        if _INT64_MIN <= key <= _INT64_MAX:
            index = bisect_left(self._keys, key)
            return index < len(self._keys) and self._keys[index] == key
        return key in self._large
