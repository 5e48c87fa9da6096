"""The labelled texts the request classifier learns from, read from the shared security data.

Every row is ``text, label, source``: ``label`` 1 for an attack, 0 for benign; ``source``
names where it came from, because figures are reported per source (single parameter values,
whole CSIC requests, libinjection's lists). Nothing is copied into the repository; the
folder is ``../shared/datasets/security`` relative to the repository by default.

Sources and labels:

- ``httpparams``: HttpParamsDataset parameter values; ``norm`` is benign, sqli / xss /
  path-traversal / cmdi are attacks.
- ``libinjection``: every ``sqli-*.txt`` and ``xss-*.txt`` line is an attack (the
  ``tbd-*`` file, not yet triaged upstream, is left out).
- ``libinjection_fp``: ``false_positives.txt``, benign text that looks like code.
- ``sqli_kaggle``: query text with its 0/1 label (benign rows are mostly English sentences).
- ``csic_normal``: CSIC 2010 normal requests (``method uri body``), benign.
- ``csic_anomalous``: CSIC 2010 anomalous requests, attacks. Most are not SQLi/XSS (header
  injection, SSI, buffer overflows, tampered parameters, probes for backup files); they are
  kept as attacks because the CSIC labels say so and the issue's CRS reference (31.6 %) is
  measured on all of them, but they are reported as their own source so the injection
  figures are not blurred by them.

Exact duplicates (same normalised text and label) are dropped, keeping the first; its
``copies`` column says how many rows it stands for. The classifier learns each text once; the
request profile (:mod:`selfheal_ml.security.request_profile`) learns a normal request as
often as the application received it, because its enumerated-value and path models rest on
how often things repeat. ``copies`` never crosses the split: duplicates share one text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_text import normalise_text, request_text

DEFAULT_DATA_DIR = Path("../shared/datasets/security")
SOURCES = (
    "httpparams",
    "libinjection",
    "libinjection_fp",
    "sqli_kaggle",
    "csic_normal",
    "csic_anomalous",
)
COLUMNS = ["text", "label", "source", "copies"]


def _frame(texts: list[str], labels: list[int], source: str) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "label": labels, "source": source})


def _list_lines(path: Path) -> list[str]:
    """Non-empty lines that are not ``#`` comments (libinjection's list format)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def load_httpparams(data_dir: Path) -> pd.DataFrame:
    """HttpParamsDataset values."""
    frame = pd.read_csv(data_dir / "httpparams" / "payload_train.csv", keep_default_na=False)
    labels = (frame["attack_type"] != "norm").astype(int).tolist()
    return _frame(frame["payload"].astype(str).tolist(), labels, "httpparams")


def load_libinjection(data_dir: Path) -> pd.DataFrame:
    """libinjection's SQLi/XSS lists (attacks) and its false positives (benign)."""
    folder = data_dir / "libinjection"
    attacks = [
        line
        for path in sorted(folder.glob("*.txt"))
        if path.name.startswith(("sqli-", "xss-"))
        for line in _list_lines(path)
    ]
    benign = _list_lines(folder / "false_positives.txt")
    return pd.concat(
        [
            _frame(attacks, [1] * len(attacks), "libinjection"),
            _frame(benign, [0] * len(benign), "libinjection_fp"),
        ],
        ignore_index=True,
    )


def load_sqli_kaggle(data_dir: Path) -> pd.DataFrame:
    """The Kaggle SQL-injection sentences (UTF-16 CSV: Sentence, Label)."""
    frame = pd.read_csv(
        data_dir / "sqli_kaggle_v1" / "sqli.csv", encoding="utf-16", keep_default_na=False
    )
    frame = frame[frame["Label"].astype(str).isin(["0", "1"])]
    labels = frame["Label"].astype(int).tolist()
    return _frame(frame["Sentence"].astype(str).tolist(), labels, "sqli_kaggle")


def load_csic(data_dir: Path) -> pd.DataFrame:
    """CSIC 2010 requests as ``method uri body`` text."""
    frame = pd.read_csv(data_dir / "csic2010" / "csic2010_dev.csv.gz")
    texts = [
        request_text(method, uri, body)
        for method, uri, body in zip(frame["method"], frame["uri"], frame["body"], strict=True)
    ]
    labels = frame["label"].astype(int).tolist()
    sources = ["csic_anomalous" if label else "csic_normal" for label in labels]
    return pd.DataFrame({"text": texts, "label": labels, "source": sources})


def load_security_texts(data_dir: Path = DEFAULT_DATA_DIR) -> pd.DataFrame:
    """All sources, exact duplicates dropped (see the module docstring)."""
    if not data_dir.is_dir():
        raise ValidationError("data_dir", f"expected the shared security folder, got {data_dir}")
    frame = pd.concat(
        [
            load_httpparams(data_dir),
            load_libinjection(data_dir),
            load_sqli_kaggle(data_dir),
            load_csic(data_dir),
        ],
        ignore_index=True,
    )
    keys = frame["text"].map(normalise_text) + "\x00" + frame["label"].astype(str)
    frame["copies"] = keys.map(keys.value_counts()).astype(int)
    return frame[~keys.duplicated()].reset_index(drop=True)[COLUMNS]
