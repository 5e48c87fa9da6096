"""What the values of one request attribute (one parameter of one path) look like normally.

Four of the models of Kruegel & Vigna, "Anomaly detection of web-based attacks" (CCS 2003),
learnt from normal values only, each giving an anomaly in [0, 1] for a new value:

- ``length``: mean and variance of the value length; a length far from the mean is unlikely
  by Chebyshev's inequality, ``P(|X - mean| >= d) <= variance / d**2`` (the variance is
  floored at 1 so a field that always had the same length tolerates one character more);
- ``characters``: the character classes (ASCII letters, digits, other letters, and every
  other character by itself) seen in the values; a value with a class never seen before is
  anomalous. This stands in for the paper's character distribution, whose chi-square test is
  too weak on the short values of web forms;
- ``token``: the paper's token finder. A value never seen before is anomalous in proportion
  to how rarely new values appeared in training, estimated the Good-Turing way (the share of
  training values seen exactly once is the probability that the next one is new), with one
  pseudo-count, ``P(new) = (singletons + 1) / (values + 1)``: an enumerated field (a button
  label, a product id) gives nearly 1, the closer the more values it was seen with, and free
  text ~0. The pseudo-count keeps every anomaly below 1, so a novelty seen in a field learnt
  from 20 values weighs less than one in a field learnt from 20,000 (without it both were
  exactly 1, and normal requests tied with attacks: 4 of 5 group folds of the training
  sides lost every detection at 0 % FPR; ``docs/benchmarks.md``);
- ``structure``: the same Good-Turing test on the value's shape (letters as ``a``, digits as
  ``9``, runs folded, other characters kept), a light form of the paper's structural
  inference: ``100`` and ``7`` share the shape ``9``, ``100A`` does not.

Every model learns one value at a time (``learn``), so the profile can keep learning live;
distinct values and shapes are counted up to ``max_distinct``, after which the field counts
as free text for that model. Nothing is scored before ``min_observations`` values.

>>> profile = AttributeProfile(min_observations=3)
>>> for value in ["10", "20", "10", "30", "10", "20"]:
...     profile.learn(value)
>>> profile.anomalies("10")["token"], profile.anomalies("40")["token"]
(0.0, 0.7142857142857143)
>>> profile.anomalies("1' or 1=1")["characters"] > 0.9
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

ANOMALY_KINDS = ("length", "characters", "token", "structure")
_DIGITS = frozenset("0123456789")


def character_class(character: str) -> str:
    """``A`` for an ASCII capital, ``a`` a small ASCII letter, ``9`` a digit, ``é`` any
    other letter; every other character stands for itself."""
    if character in _DIGITS:
        return "9"
    if character.isascii() and character.isalpha():
        return "A" if character.isupper() else "a"
    if character.isalpha():
        return "é"
    return character


def value_shape(value: str) -> str:
    """Letters as ``a``, digits as ``9``, runs of either folded, other characters kept.

    >>> value_shape("Vino Rioja"), value_shape("100"), value_shape("ab12-x")
    ('a a', '9', 'a9-a')
    """
    shape: list[str] = []
    for character in value:
        symbol = "9" if character in _DIGITS else "a" if character.isalpha() else character
        if symbol in "a9" and shape and shape[-1] == symbol:
            continue
        shape.append(symbol)
    return "".join(shape)


class NoveltyCounter:
    """Counts of keys up to ``max_distinct``; the Good-Turing chance that a key is new."""

    def __init__(self, max_distinct: int) -> None:
        self.max_distinct = max_distinct
        self.counts: Counter[str] = Counter()
        self.observations = 0
        self.singletons = 0
        self.overflowed = False

    def learn(self, key: str) -> None:
        self.observations += 1
        if self.overflowed:
            return
        seen = self.counts.get(key, 0)
        if seen == 0 and len(self.counts) >= self.max_distinct:
            self.overflowed = True
            self.counts.clear()
            return
        self.counts[key] = seen + 1
        self.singletons += 1 if seen == 0 else -1 if seen == 1 else 0

    def surprise(self, key: str) -> float:
        """0 for a known key; for a new one, 1 - P(new) (0 once the counter overflowed)."""
        if self.overflowed or self.observations == 0 or key in self.counts:
            return 0.0
        return 1.0 - (self.singletons + 1) / (self.observations + 1)

    def state(self) -> dict[str, Any]:
        """Everything learnt, as JSON-ready data (:meth:`from_state` rebuilds the counter)."""
        return {
            "max_distinct": self.max_distinct,
            "observations": self.observations,
            "singletons": self.singletons,
            "overflowed": self.overflowed,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NoveltyCounter:
        """The counter :meth:`state` described (``KeyError`` names a missing field)."""
        counter = cls(int(state["max_distinct"]))
        counter.observations = int(state["observations"])
        counter.singletons = int(state["singletons"])
        counter.overflowed = bool(state["overflowed"])
        counter.counts = Counter({str(k): int(v) for k, v in state["counts"].items()})
        return counter


class AttributeProfile:
    """The four value models of one attribute (module docstring)."""

    def __init__(self, min_observations: int = 10, max_distinct: int = 2000) -> None:
        self.min_observations = min_observations
        self.max_distinct = max_distinct
        self.observations_ = 0
        self._length_sum = 0.0
        self._length_square_sum = 0.0
        self._tokens = NoveltyCounter(max_distinct)
        self._shapes = NoveltyCounter(max_distinct)
        self._classes = NoveltyCounter(max_distinct)

    def learn(self, value: str) -> None:
        """Add one normal value to every model."""
        self.observations_ += 1
        self._length_sum += len(value)
        self._length_square_sum += len(value) ** 2
        self._tokens.learn(value)
        self._shapes.learn(value_shape(value))
        for symbol in {character_class(character) for character in value}:
            self._classes.learn(symbol)

    def state(self) -> dict[str, Any]:
        """Everything learnt, as JSON-ready data (:meth:`from_state` rebuilds the profile)."""
        return {
            "min_observations": self.min_observations,
            "max_distinct": self.max_distinct,
            "observations": self.observations_,
            "length_sum": self._length_sum,
            "length_square_sum": self._length_square_sum,
            "tokens": self._tokens.state(),
            "shapes": self._shapes.state(),
            "classes": self._classes.state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> AttributeProfile:
        """The profile :meth:`state` described (``KeyError`` names a missing field)."""
        profile = cls(int(state["min_observations"]), int(state["max_distinct"]))
        profile.observations_ = int(state["observations"])
        profile._length_sum = float(state["length_sum"])
        profile._length_square_sum = float(state["length_square_sum"])
        profile._tokens = NoveltyCounter.from_state(state["tokens"])
        profile._shapes = NoveltyCounter.from_state(state["shapes"])
        profile._classes = NoveltyCounter.from_state(state["classes"])
        return profile

    def _length_anomaly(self, length: int) -> float:
        mean = self._length_sum / self.observations_
        variance = max(self._length_square_sum / self.observations_ - mean**2, 1.0)
        distance = abs(length - mean)
        if distance * distance <= variance:
            return 0.0
        return 1.0 - variance / (distance * distance)

    def _class_anomaly(self, value: str) -> float:
        classes = {character_class(character) for character in value}
        unseen = [symbol for symbol in classes if symbol not in self._classes.counts]
        if not unseen or self._classes.overflowed:
            return 0.0
        # the chance that a value brings a class never seen: classes seen in one value only
        new_class_chance = (self._classes.singletons + 1) / (self.observations_ + 1)
        return 1.0 - min(new_class_chance, 1.0) ** len(unseen)

    def anomalies(self, value: str) -> dict[str, float]:
        """Each model's anomaly in [0, 1] for ``value`` (all 0 before ``min_observations``)."""
        if self.observations_ < self.min_observations:
            return dict.fromkeys(ANOMALY_KINDS, 0.0)
        return {
            "length": self._length_anomaly(len(value)),
            "characters": self._class_anomaly(value),
            "token": self._tokens.surprise(value),
            "structure": self._shapes.surprise(value_shape(value)),
        }
