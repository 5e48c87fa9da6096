"""Choosing a detector for data it was not chosen on: held-out selection and its nested estimate.

NAB is scored with one threshold per corpus, and a detector's structure and global parameters are
picked from a grid of candidates. Picking both on the files one reports is optimistic (the
winner is partly the luckiest candidate). Here every choice is made by *held-out* score:

- :func:`held_out_score`: one candidate, folds = NAB categories; for each fold the threshold is
  the best one on the other folds, the fold is scored with it; the sum over folds, normalised.
- :func:`select`: the candidate with the best held-out score (the selection criterion; the
  in-sample score only breaks exact ties, never decides).
- :func:`nested_cross_validate`: the estimate of what that whole procedure scores on a category
  it never saw: for each outer category, :func:`select` runs on the other categories only (its
  own inner leave-one-category-out), the chosen candidate's threshold is fitted on those same
  categories, and the outer category is scored with both (Varma & Simon, "Bias in error
  estimation when using cross-validation for model selection", BMC Bioinformatics 7:91, 2006;
  Cawley & Talbot, JMLR 11, 2010).

``results`` maps candidate name -> file key (``category/file.csv``) -> :class:`LabelledFile`.

>>> from selfheal_ml.evaluation.nab import PROFILES, LabelledFile
>>> hit = LabelledFile.build([0.0] * 10 + [0.9] + [0.0] * 9, [(10, 14)])
>>> miss = LabelledFile.build([0.0] * 20, [(10, 14)])
>>> results = {"good": {"a/1.csv": hit, "b/1.csv": hit},
...            "bad": {"a/1.csv": miss, "b/1.csv": miss}}
>>> profile = PROFILES["standard"]
>>> select(results, profile), nested_cross_validate(results, profile).score
('good', 100.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from selfheal_ml.evaluation.nab import LabelledFile, Profile, file_score, normalise, sweep

Results = Mapping[str, Mapping[str, LabelledFile]]


def category(key: str) -> str:
    """The NAB category of a file key (``category/file.csv``)."""
    return key.split("/")[0]


def _held_out_raw(
    files: Mapping[str, LabelledFile], keys: Sequence[str], profile: Profile
) -> float:
    """Raw score of ``keys`` when each category's threshold is fitted on the others in ``keys``."""
    groups = sorted({category(key) for key in keys})
    total = 0.0
    for group in groups:
        train = [files[key] for key in keys if category(key) != group]
        test = [files[key] for key in keys if category(key) == group]
        threshold = sweep(train, profile).threshold if train else float("inf")
        total += sum(file_score(labelled, threshold, profile) for labelled in test)
    return total


def held_out_score(
    files: Mapping[str, LabelledFile], profile: Profile, keys: Sequence[str] | None = None
) -> float:
    """Normalised leave-one-category-out score of one candidate (threshold fitted held out)."""
    chosen = sorted(files) if keys is None else list(keys)
    raw = _held_out_raw(files, chosen, profile)
    return normalise(raw, [files[key] for key in chosen], profile)


def select(results: Results, profile: Profile, keys: Sequence[str] | None = None) -> str:
    """The candidate with the best held-out score over ``keys`` (all files by default)."""

    def criterion(name: str) -> tuple[float, float]:
        files = results[name]
        chosen = sorted(files) if keys is None else list(keys)
        in_sample = sweep([files[key] for key in chosen], profile).raw_score
        return _held_out_raw(files, chosen, profile), in_sample

    return max(sorted(results), key=criterion)


@dataclass(frozen=True)
class NestedEstimate:
    """The nested estimate of a profile's score, and per outer category what was chosen."""

    profile: str
    score: float
    choices: dict[str, tuple[str, float]]  # category -> (candidate, threshold)


def nested_cross_validate(results: Results, profile: Profile) -> NestedEstimate:
    """Outer leave-one-category-out around :func:`select` (see the module docstring)."""
    keys = sorted(next(iter(results.values())))
    raw = 0.0
    choices: dict[str, tuple[str, float]] = {}
    for outer in sorted({category(key) for key in keys}):
        train = [key for key in keys if category(key) != outer]
        test = [key for key in keys if category(key) == outer]
        name = select(results, profile, train)
        threshold = sweep([results[name][key] for key in train], profile).threshold
        choices[outer] = (name, threshold)
        raw += sum(file_score(results[name][key], threshold, profile) for key in test)
    every = [next(iter(results.values()))[key] for key in keys]
    return NestedEstimate(profile.name, normalise(raw, every, profile), choices)
