"""The frozen-heap block: freezes what is alive, only in the outermost block, and undoes it."""

from __future__ import annotations

import gc

from selfheal_ml.heap import long_lived_heap_frozen


def _scanned(thing: object) -> bool:
    """Whether the collector's generations (not the frozen one) hold ``thing``."""
    return any(candidate is thing for candidate in gc.get_objects())


def test_freezes_what_is_alive_and_unfreezes_on_exit() -> None:
    survivor = [[step] for step in range(10)]  # lists: tracked by the collector
    assert gc.get_freeze_count() == 0
    with long_lived_heap_frozen():
        assert gc.get_freeze_count() >= len(survivor)
        assert not _scanned(survivor[0])
        later = [1, 2]
        assert _scanned(later)  # what is allocated inside the block is collected as usual
    assert gc.get_freeze_count() == 0
    assert _scanned(survivor[0])


def test_nested_blocks_freeze_once_and_unfreeze_at_the_outermost_exit() -> None:
    with long_lived_heap_frozen():
        outer = gc.get_freeze_count()
        with long_lived_heap_frozen():
            assert gc.get_freeze_count() == outer  # the inner block neither refreezes...
        assert gc.get_freeze_count() == outer  # ...nor unfreezes
    assert gc.get_freeze_count() == 0


def test_unfreezes_when_the_block_raises() -> None:
    try:
        with long_lived_heap_frozen():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
