"""The frozen-heap block: freezes what is alive, only in the outermost block, and undoes it."""

from __future__ import annotations

import gc

import pytest

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


def test_nested_blocks_freeze_once_and_unfreeze_at_the_outermost_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted with spies: the frozen count itself can drop while a block runs, because a
    frozen object can still be freed (by another thread, say): on one CI run it fell by 2."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    with long_lived_heap_frozen():
        with long_lived_heap_frozen():
            assert calls == ["freeze"]  # the inner block neither refreezes...
        assert calls == ["freeze"]  # ...nor unfreezes
    assert calls == ["freeze", "unfreeze"]


def test_unfreezes_when_the_block_raises() -> None:
    try:
        with long_lived_heap_frozen():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
