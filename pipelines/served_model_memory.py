"""What serving a champion costs a fresh process: its serving form against its skops model.

Trains into a temporary MLflow store (in this process): the repair-strategy classifier, one
version per candidate family (on 800 simulated incidents), and the request classifier (the
1-4-gram logistic regression on a small synthetic corpus; its 2^20 coefficients make its size,
not the corpus). Then, for each champion, two fresh interpreters each do what the service does
(import the loading code, read the alias, load the model, predict once) and print their VmRSS
before and after the load, and which of scikit-learn, SciPy, skops and MLflow they imported:
one through ``Tracker.load_served_model`` (the serving form, what the service calls), one
through ``Tracker.load_sklearn_model`` (the skops file, what it called before). The two are
alternated and repeated ``--repeats`` times.

Run: PYTHONPATH=<tree> .venv/bin/python pipelines/served_model_memory.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: One fresh process: load ``URI`` with ``METHOD`` and predict once on ``ROWS``.
PROBE = """
import json, sys
from pathlib import Path
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
import numpy, pandas
from selfheal_ml.tracking import Tracker
tracker = Tracker(sys.argv[1])
before = rss()
model = getattr(tracker, sys.argv[3])(sys.argv[2])
rows = json.loads(sys.argv[4])
if isinstance(rows, dict):
    rows = pandas.DataFrame(rows)
model.predict_proba(rows)
heavy = [n for n in ("sklearn", "scipy", "skops", "mlflow") if n in sys.modules]
print(json.dumps({"before": before, "after": rss(), "type": type(model).__name__, "heavy": heavy}))
"""


def corpus(seed: int) -> pd.DataFrame:
    """A small labelled corpus: attack templates with random numbers, benign word lists."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    templates = [
        "{n}' or '{n}'='{n}", "{n} union select {n},{n} from t--", "<script>alert({n})</script>",
        "../../etc/passwd?{n}", "{n}; drop table t{n}--", "<img src=x onerror=alert({n})>",
    ]  # fmt: skip
    words = ["ana", "madrid", "rioja", "calle", "mayor", "plaza", "libro", "mesa", "casa", "azul"]
    rows = [(t.format(n=int(rng.integers(1, 9999))), 1, "httpparams") for t in templates * 40]
    rows += [
        (" ".join(rng.choice(words, size=int(rng.integers(1, 4)))) + f" {i}", 0, "httpparams")
        for i in range(400)
    ]
    return pd.DataFrame(rows, columns=["text", "label", "source"])


def train(store: Path) -> dict[str, tuple[str, str]]:
    """Champions in ``store``: label -> (model URI, JSON rows to predict)."""
    from selfheal_ml.repair.classifier import CANDIDATES
    from selfheal_ml.tracking import Tracker
    from selfheal_ml.training import Dataset, generate_history, train_and_register
    from selfheal_ml.training.request_training import train_request_classifier

    uri = f"sqlite:///{store / 'mlflow.db'}"
    tracker = Tracker(uri)
    history = generate_history(seed=5, count=800, start=datetime(2026, 1, 5, tzinfo=UTC), days=90)
    later = generate_history(seed=6, count=100, start=datetime(2026, 3, 10, tzinfo=UTC), days=10)
    train_set, holdout = Dataset.from_history(history), Dataset.from_history(later)
    rows = json.dumps(holdout.features.head(3).to_dict(orient="list"))
    champions = {}
    for family in CANDIDATES:
        report = train_and_register(tracker, train_set, holdout, candidates=(family,))
        champions[f"repair {family}"] = (f"models:/repair-strategy/{report.version}", rows)
    request = train_request_classifier(
        tracker, corpus(1), candidates=("logreg_char1to4_c10",), fp_bound=1.0
    )
    texts = json.dumps(["1' or '1'='1", "ana madrid 12"])
    champions["request logreg_char1to4_c10"] = (
        f"models:/request-classifier/{request.version}",
        texts,
    )
    return {label: (uri_, rows_) for label, (uri_, rows_) in champions.items()} | {"": (uri, "")}


def probe(store_uri: str, model_uri: str, method: str, rows: str) -> dict[str, object]:
    """One fresh interpreter's figures (see :data:`PROBE`)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, store_uri, model_uri, method, rows],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternated pairs per champion")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with tempfile.TemporaryDirectory(prefix="served-memory-") as scratch:
        champions = train(Path(scratch))
        store_uri = champions.pop("")[0]
        for label, (model_uri, rows) in champions.items():
            for repeat in range(args.repeats):
                for method in ("load_served_model", "load_sklearn_model"):
                    found = probe(store_uri, model_uri, method, rows)
                    added = float(found["after"]) - float(found["before"])  # type: ignore[arg-type]
                    print(
                        f"{label:38} {method:18} #{repeat + 1}: +{added:5.1f} MB "
                        f"(VmRSS {found['before']:.0f} -> {found['after']:.0f} MB) "
                        f"{found['type']} imported {found['heavy']}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
