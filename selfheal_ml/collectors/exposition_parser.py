"""Parsing the Prometheus text exposition format 0.0.4: a fast strict path, the full parser after.

``prometheus_client``'s parser is general (escapes anywhere, quoted names, exemplars) and pays
for it character by character: about 2 ms for a 100-line page, the largest share of a
scrape's cost, and the demo scrapes seven pages a round for 13,000 rounds. Most pages are the
well-formed subset that client libraries and exporters write: ``# HELP``/``# TYPE`` lines,
then samples ``name{key="value",...} value [timestamp]`` with plain label values.

:func:`parse_exposition` reads that subset line by line with two regular expressions and
groups samples into families exactly as ``prometheus_client.parser`` does (the same
``Metric`` and ``Sample`` objects, a counter's family named without ``_total``, a sample
outside its family's names as an untyped family of its own). At the first line outside the
subset (an escaped or oddly spaced label value, a quoted name, a value with ``_``) it hands
the whole page to ``prometheus_client``, which either parses it or raises ``ValueError``, so
the result never differs from the full parser's; ``tests/unit/collectors`` checks both agree.

>>> [(family.name, family.type) for family in parse_exposition("# TYPE up gauge\\nup 1\\n")]
[('up', 'gauge')]
>>> family, = parse_exposition('# TYPE jobs_total counter\\njobs_total{q="a"} 3\\n')
>>> family.name, family.samples[0].name, family.samples[0].labels, family.samples[0].value
('jobs', 'jobs_total', {'q': 'a'}, 3.0)
"""

from __future__ import annotations

import functools
import re

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
#: A sample line: name, optional plain labels, value, optional integer timestamp (ms).
_SAMPLE = re.compile(rf"({_NAME})(?:\{{([^{{}}\\]*)\}})?[ \t]+([^ \t]+)(?:[ \t]+(-?[0-9]+))?")
#: One plain label pair; a page whose label text these do not tile exactly is not "plain".
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')
_NAME_ONLY = re.compile(_NAME)
#: A sample line's start without value or timestamp: name, then optional labels.
_HEAD = re.compile(rf"({_NAME})(?:\{{([^{{}}\\]*)\}})?")
#: The sample names each family type owns (as in ``prometheus_client.parser``).
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "summary": ("_count", "_sum", ""),
    "histogram": ("_count", "_sum", "_bucket"),
}


class _NotWellFormedError(Exception):
    """A line outside the strict subset: the full parser decides."""


@functools.lru_cache(maxsize=65536)
def _label_pairs(text: str) -> tuple[tuple[str, str], ...] | None:
    """The pairs of a plain label text, or ``None`` if it is not plain. A page repeats the
    same label texts every scrape, so the answers are memoised (bounded): matching and
    re-joining them was a third of the parser's time."""
    pairs = _LABEL.findall(text)
    rebuilt = ",".join(f'{key}="{value}"' for key, value in pairs)
    if rebuilt != text and rebuilt + "," != text:
        return None
    names = {key for key, _ in pairs}
    if len(names) != len(pairs) or "__name__" in names:
        return None
    return tuple(pairs)


def _labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    pairs = _label_pairs(text)
    if pairs is None:
        raise _NotWellFormedError
    return dict(pairs)


@functools.lru_cache(maxsize=65536)
def _plain_head(head: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """Name and label pairs of a sample line's start (``name{labels}``, no value), or
    ``None`` when it is not that (a timestamp, odd spacing, a label text that is not plain).
    A page repeats the same starts every scrape, so the answers are memoised (bounded)."""
    match = _HEAD.fullmatch(head)
    if match is None:
        return None
    name, label_text = match.groups()
    pairs = _label_pairs(label_text) if label_text else ()
    return None if pairs is None else (name, pairs)


def _sample(line: str) -> Sample:
    head, space, value_text = line.rpartition(" ")
    plain = _plain_head(head) if space and "\t" not in line else None
    if plain is not None:  # ``name{labels} value``: only the value is new this scrape
        if "_" in value_text:
            raise _NotWellFormedError
        try:
            value = float(value_text)
        except ValueError:
            raise _NotWellFormedError from None
        return Sample(plain[0], dict(plain[1]), value, None)
    match = _SAMPLE.fullmatch(line)
    if match is None:
        raise _NotWellFormedError
    name, label_text, value_text, timestamp = match.groups()
    if "_" in value_text:
        raise _NotWellFormedError  # the full parser rejects it; let it say so
    try:
        value = float(value_text)
    except ValueError:
        raise _NotWellFormedError from None
    stamp = None if timestamp is None else int(timestamp) / 1000
    return Sample(name, _labels(label_text), value, stamp)


def _metric(name: str, documentation: str, kind: str, samples: list[Sample]) -> Metric:
    """A family as ``prometheus_client`` builds it (counters in OpenMetrics naming)."""
    if kind == "counter":
        if name.endswith("_total"):
            name = name[:-6]
        else:
            samples = [s._replace(name=s.name + "_total") for s in samples]
    metric = Metric(name, documentation, kind)
    metric.samples = samples
    return metric


class _Families:
    """The grouping state machine of ``prometheus_client.parser.text_fd_to_metric_families``;
    finished families are appended to ``families``."""

    def __init__(self) -> None:
        self.families: list[Metric] = []
        self.name = ""
        self.documentation = ""
        self.kind = "untyped"
        self.samples: list[Sample] = []
        self.allowed: tuple[str, ...] = ()

    def flush(self) -> None:
        if self.name:
            self.families.append(_metric(self.name, self.documentation, self.kind, self.samples))

    def start(self, name: str) -> None:
        self.flush()
        self.name, self.samples = name, []

    def comment(self, line: str) -> None:
        parts = line.split(None, 3)
        if len(parts) < 2 or parts[1] not in ("HELP", "TYPE"):
            return  # an ordinary comment
        if len(parts) < 3 or _NAME_ONLY.fullmatch(parts[2]) is None:
            raise _NotWellFormedError
        name = parts[2]
        if parts[1] == "HELP":
            if name != self.name:
                self.start(name)
                self.kind, self.allowed = "untyped", (name,)
            documentation = parts[3] if len(parts) == 4 else ""
            if "\\" in documentation:
                raise _NotWellFormedError
            self.documentation = documentation
            return
        if len(parts) < 4:
            raise _NotWellFormedError
        if name != self.name:
            self.start(name)
            self.documentation = ""
        self.kind = parts[3]
        self.allowed = tuple(name + suffix for suffix in _SUFFIXES.get(self.kind, ("",)))

    def sample(self, line: str) -> None:
        sample = _sample(line)
        if sample.name in self.allowed:
            self.samples.append(sample)
            return
        self.flush()
        self.name, self.documentation, self.kind = "", "", "untyped"
        self.samples, self.allowed = [], ()
        self.families.append(_metric(sample.name, "", "untyped", [sample]))


def parse_well_formed(text: str) -> list[Metric]:
    """The families of a page in the strict subset; raises ``_NotWellFormedError`` otherwise."""
    state = _Families()
    comment, sample = state.comment, state.sample
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            comment(line)
        else:
            sample(line)
    state.flush()
    return state.families


def parse_exposition(text: str) -> list[Metric]:
    """All metric families of a text exposition page (raises ``ValueError`` if malformed):
    the strict fast path, else ``prometheus_client``'s parser (see the module docstring)."""
    try:
        return parse_well_formed(text)
    except _NotWellFormedError:
        return list(text_string_to_metric_families(text))


def parse_exposition_full(text: str) -> list[Metric]:
    """All metric families, always through ``prometheus_client``'s parser (the reference)."""
    return list(text_string_to_metric_families(text))
