"""Skeletons collapse payload variants; the split never separates a group."""

from __future__ import annotations

import numpy as np

from selfheal_ml.security.near_duplicates import group_ids, group_split, skeleton


def test_sqlmap_style_variants_share_a_skeleton() -> None:
    first = skeleton("1) AND 8514=8514 AND (7451=7451", attack=True)
    second = skeleton("1) and 1234=1234 and (99=99", attack=True)
    assert first == second
    forum_a = skeleton("-9 union select 1,2,3,version(),5 --", attack=True)
    forum_b = skeleton("-27 union select 1,2,3,4,5,6,version(),8,9 --", attack=True)
    assert forum_a == forum_b


def test_different_benign_words_are_not_grouped() -> None:
    assert skeleton("dolores", attack=False) != skeleton("sonsoles", attack=False)
    assert skeleton("calle 12", attack=False) == skeleton("Calle 99", attack=False)


def test_split_keeps_every_near_duplicate_group_on_one_side() -> None:
    texts, labels = [], []
    for family in range(60):
        for variant in range(5):
            columns = "a," * (family % 7)
            texts.append(f"{variant}{family}' union select {columns}{variant} from t{family % 3}--")
            labels.append(1)
        texts.append(f"benign value number {family} {'x' * family}")
        labels.append(0)
    groups = group_ids(texts, labels)
    train, test = group_split(groups, test_fraction=0.25, seed=3)
    assert len(train) + len(test) == len(texts)
    assert set(groups[train]).isdisjoint(set(groups[test]))
    test_skeletons = {skeleton(texts[i], bool(labels[i])) for i in test}
    train_skeletons = {skeleton(texts[i], bool(labels[i])) for i in train}
    assert test_skeletons.isdisjoint(train_skeletons)
    assert 0 < len(test) < len(texts)
    assert np.all(np.diff(train) > 0)
