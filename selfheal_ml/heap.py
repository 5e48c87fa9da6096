"""Keep Python's cyclic garbage collector off the long-lived heap while the service runs, and
read a process's peak memory (:func:`peak_rss_mb`, what the child processes report).

Once the agents have started, almost everything on the heap lives as long as the process: the
imported libraries (pandas, DuckDB, scikit-learn, statsmodels, MLflow: about 354 000 tracked
objects after ``import selfheal_ml.runtime``, counted with ``len(gc.get_objects())``) and the
detector bank (per series, windows of thousands of floats). A full collection
walks all of it, and full collections keep coming because each round's write buffers survive
long enough to be promoted (in profiles of the demo they were a large share of its time). None
of that heap is garbage, so :func:`long_lived_heap_frozen` collects once and then moves it to the
permanent generation (``gc.freeze``, the technique CPython documents for servers with a large
warm heap); later collections only walk what was allocated since. On exit it unfreezes, so a
test process that runs many short runtimes still frees them.

>>> import gc
>>> with long_lived_heap_frozen():
...     gc.get_freeze_count() > 0
True
>>> gc.get_freeze_count()
0
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_depth = 0


@contextmanager
def long_lived_heap_frozen() -> Iterator[None]:
    """Collect, then freeze everything alive now for the duration of the block (re-entrant:
    only the outermost block freezes and unfreezes)."""
    global _depth
    _depth += 1
    if _depth == 1:
        gc.collect()
        gc.freeze()
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


def peak_rss_mb() -> float:
    """This process's peak RSS (``VmHWM``) in MB. Not ``ru_maxrss``: Linux carries that over
    ``exec``, so a child spawned from a large service would report the service's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
