"""Near-duplicate payloads share a skeleton; splits keep every skeleton on one side.

Attack lists are full of variants of one payload: sqlmap changes the random numbers and the
random four-letter identifiers (``1) as itvm where 1482=1482``, ``1) as kerg where 6304=6304``),
forum dumps change the column count. A random row split would put one variant in training and
its twin in the test set, and the test would measure memory. :func:`skeleton` maps such
variants to one string and :func:`group_split` splits whole skeleton groups
(scikit-learn's ``GroupShuffleSplit``).

Two skeletons, by label. An attack's skeleton keeps its syntax (punctuation, SQL/HTML/shell
keywords) and replaces numbers by ``0`` and every other word by ``w``: the payload's shape.
Whitespace is dropped, runs of words become one ``w`` and runs of
comma-separated numbers one ``0``. A benign text keeps its words (numbers still ``0``): two
different names or addresses are not near-duplicates of each other, and collapsing them would
make one giant group of every single-word value.

>>> skeleton("1) AS itvm WHERE 1482=1482--", attack=True)
'0)wwhere0=0--'
>>> skeleton("1) as kerg where 6304=6304 --", attack=True)
'0)wwhere0=0--'
>>> skeleton("-9 union select 1,2,3,version(),5 --", attack=True)
'-0unionselect0,version(),0--'
>>> skeleton("Calle Mayor 12", attack=False)
'calle mayor 0'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_text import normalise_text

KEYWORDS = frozenset(
    """
    select union all distinct from where and or not xor like rlike regexp is null insert
    into values update set delete drop create alter table exec execute declare having
    order group by limit offset sleep benchmark waitfor delay information_schema concat
    char chr ascii substring cast convert version database user load_file outfile case
    when then else end if ifnull script alert prompt confirm eval javascript vbscript
    document cookie window location onerror onload onclick onmouseover img svg iframe body
    src href style input etc passwd shadow bin sh bash cmd cat ls id whoami wget curl echo
    ping nc
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[a-z_][a-z_0-9]*")
_QUOTES = re.compile(r"[\"`]")
_SPACE = re.compile(r"\s+")
_RUN_OF_WORDS = re.compile(r"\bw(?:\s+w\b)+")
_RUN_OF_NUMBERS = re.compile(r"0(?:\s*,\s*0)+")


def _word_or_keyword(match: re.Match[str]) -> str:
    word = match.group(0)
    return word if word in KEYWORDS else "w"


def skeleton(text: str, attack: bool) -> str:
    """The near-duplicate key of one text (see the module docstring)."""
    normalised = _QUOTES.sub("'", normalise_text(text))
    shape = _NUMBER.sub("0", normalised)
    if attack:
        shape = _WORD.sub(_word_or_keyword, shape)
        shape = _RUN_OF_WORDS.sub("w", shape)
        shape = _RUN_OF_NUMBERS.sub("0", shape)
        return _SPACE.sub("", shape)
    return _SPACE.sub(" ", shape).strip()


def group_ids(texts: Sequence[str], labels: Sequence[int]) -> np.ndarray:
    """An integer group per text: equal skeletons (of the same label) share a group."""
    seen: dict[tuple[int, str], int] = {}
    ids = np.empty(len(texts), dtype=np.int64)
    for index, (text, label) in enumerate(zip(texts, labels, strict=True)):
        key = (int(label), skeleton(text, attack=bool(label)))
        ids[index] = seen.setdefault(key, len(seen))
    return ids


def group_split(
    groups: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the two sides; every group lies wholly on one side."""
    if not 0.0 < test_fraction < 1.0:
        raise ValidationError(
            "test_fraction", f"expected 0 < test_fraction < 1, got {test_fraction!r}"
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)
