"""Train the repair-strategy classifier: simulate histories, log candidates, register, gate.

    python pipelines/train_repair_classifier.py [--incidents 5000] [--tracking-uri URI] ...

Creates (or extends) the MLflow experiment ``repair-strategy`` with one run per candidate and
baseline, registers the best candidate as a new version of model ``repair-strategy``, moves
the ``champion`` alias only if the promotion gate allows, and writes
``models/repair-strategy.md``. Exit code 0 on success. See ``--help`` for every option.
"""

from __future__ import annotations

import sys

from selfheal_ml.training.pipeline import main

if __name__ == "__main__":
    sys.exit(main())
