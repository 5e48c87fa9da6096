"""The model card of the request classifier, written on every training run.

Every figure in it comes from the :class:`RequestTrainingReport` of the run that wrote it,
and the card names the command that ran.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from selfheal_ml.training.request_training import RequestTrainingReport

_PURPOSE = """## What it is

A scikit-learn `Pipeline` that scores one HTTP parameter value or one whole request
(`method uri body`) for injection (SQLi, XSS, path traversal, command injection):
URL/percent (twice), `+` and HTML-entity decoding, lower case and
whitespace folding (`selfheal_ml/security/request_text.py`), hashed character n-grams (1-4
or 1-5, by candidate) with sublinear term frequency (`selfheal_ml/security/ngram_features.py`,
2^20 columns, computed in bulk with numpy), then a linear model. Registered as
`request-classifier`, wrapped in `FixedThresholdClassifier` so the default threshold travels
with it. Served by
`selfheal_ml.training.load_request_scorer` (the `@champion`, else the signature baseline), from
the serving form logged beside the skops model (`extra_files/serving_form.json` and `.npz`:
threshold, n-gram settings, coefficients; `selfheal_ml/serving/`): the Security agent scores
with numpy alone, without scikit-learn or SciPy; a version without one is loaded with
scikit-learn.
"""

_DATA = """## Data

Only `../shared/datasets/security` (read in place, never copied): HttpParamsDataset values
(`params`: benign values vs sqli/xss/path-traversal/cmdi), libinjection's `sqli-*`/`xss-*`
lists (attacks), libinjection's `false_positives.txt` (benign text that looks like code,
split like every other source: part trained on, part held out), the Kaggle SQLi sentences,
and CSIC 2010 whole requests (normal = benign). CSIC's anomalous requests are **not
learnt** by default: most are not SQLi/XSS (tampered parameters, header and SSI injection,
buffer overflows, probes for backup files such as `carrito.jsp.BAK`), and learning them taught
the model the shop's own URL shapes: bare normal requests such as
`get /tienda1/publico/carrito.jsp` then score like attacks and the TPR at 0 % FPR collapses
(the comparison, with its commands, is in `docs/benchmarks.md`). They stay in the
held-out side and are reported as their own group (`csic`), comparable with the issue's CRS
figure (31.6 %), which counts all of them. Exact duplicates (same decoded text and
label) are dropped.

## Split

Near-duplicate payloads stay on one side: texts are grouped by skeleton
(`selfheal_ml/security/near_duplicates.py`: attacks keep their syntax and keywords, with
numbers as `0`, other words as `w`, runs of either folded, so sqlmap's random identifiers and
forum dumps' column counts collapse; benign texts keep their words with numbers as `0`), and
`GroupShuffleSplit` puts 20 % of the groups in the held-out test side. The remaining groups are
split again: 80 % fit, 20 % validation. Candidates are compared on validation only; the
default threshold is the lowest whose FPR on the validation benign texts is at most the
target; the test side is scored once, for the chosen model and the signature baseline.
"""

_LIMITS = """## Known limits

- The benign side is narrow: CSIC's one shop application, HttpParams values (also from CSIC),
  English sentences and the libinjection false-positive list. Traffic of another application
  (JSON bodies, code snippets, rich text) will have other false positives: run it in
  detection-only mode first and raise the threshold if needed.
- It is an injection classifier: CSIC anomalies that are not injections (renamed parameters,
  probes for backup files, oversized values) are mostly not caught by it alone; the request
  profile of the application's own normal requests catches them (section above). The
  profile's figures stand on one application (the CSIC shop) whose normal traffic is
  generated from a few forms; a real application's normal traffic is more varied.
- TPR at 0 % FPR rests on the single highest-scoring benign text of a group; read it with the
  benign counts.
"""

_ROWS = (
    ("params", "single parameter values (HttpParams)"),
    ("sqli_kaggle", "Kaggle SQLi sentences"),
    ("libinjection", "libinjection SQLi/XSS lists (vs all benign)"),
    ("injection", "all injection attacks (vs all benign)"),
    ("csic", "CSIC 2010 whole requests"),
    ("all", "pooled"),
)


def _pct(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{100.0 * value:.1f} %"


def _row(group: str, figures: Mapping[str, float]) -> str:
    cells = [
        _pct(figures.get(f"{group}_tpr_at_fpr_{budget}")) for budget in ("0", "0.1pct", "1pct")
    ]
    return " / ".join(cells)


def _tpr_table(report: RequestTrainingReport) -> list[str]:
    lines = [
        "| group | model held-out 0 % / 0.1 % / 1 % | model in-sample 0 % / 0.1 % / 1 %"
        " | signatures held-out 0 % / 0.1 % / 1 % | signatures in-sample 0 % / 0.1 % / 1 %"
        " | held-out attacks / benign |",
        "|---|---|---|---|---|---|",
    ]
    for group, label in _ROWS:
        held = report.held_out
        counts = f"{held.get(f'{group}_attacks', 0):.0f} / {held.get(f'{group}_benign', 0):.0f}"
        lines.append(
            f"| {label} | {_row(group, report.held_out)}"
            f" | {_row(group, report.in_sample)}"
            f" | {_row(group, report.baseline_held_out)}"
            f" | {_row(group, report.baseline_in_sample)} | {counts} |"
        )
    return lines


def _by_parameter(report: RequestTrainingReport) -> list[str]:
    held, base = report.held_out, report.baseline_held_out
    if "by_parameter_csic_tpr_at_fpr_0" not in held:
        return []
    model = _row("by_parameter_csic", held)
    signatures = _row("by_parameter_csic", base)
    return [
        "CSIC whole requests scored value by value (the highest score of the request and of"
        " each parameter value, `RequestScorer.score_by_parameter`), held-out TPR at"
        f" 0 % / 0.1 % / 1 % FPR: model {model}; signatures {signatures}; at the default"
        f" threshold: TPR {_pct(held.get('by_parameter_csic_anomalous_attack_tpr_default'))},"
        f" FPR {_pct(held.get('by_parameter_csic_normal_benign_fpr_default'))} (model).",
        "",
    ]


def _profile_section(report: RequestTrainingReport) -> list[str]:
    """CSIC whole requests: request profile, classifier and both (request_profile_evaluation)."""
    if not report.profile:
        return []
    held, fit = report.profile["profile_test_"], report.profile["profile_train_"]
    validation = report.profile["profile_val_"]
    lines = [
        "## CSIC whole requests: application request profile + classifier",
        "",
        "The request profile (`selfheal_ml/security/request_profile.py`, after Kruegel & Vigna,"
        " CCS 2003; score = -log10 of the product of (1 - anomaly) over its models) learns the"
        " fit side's normal CSIC requests only (each as often as the shop received it); its"
        " score is divided by its validation threshold at the target FPR. The classifier scores"
        " a request value by value, divided by its own default threshold. The combination, the"
        " higher of the two, flags at 1.0: either rule at its own threshold"
        " (`selfheal_ml/training/request_profile_evaluation.py`). The model carries the profile"
        " (`extra_files/application_profile.json`): `pipelines/score_requests.py` scores whole"
        " requests of this application with both. Other sources keep the classifier's score,"
        " so their figures above are unchanged. TPR at FPR <= 0 %, 0.1 %, 1 % (thresholds on"
        " each side's own normal requests; in-sample = fit side: normal requests learnt,"
        " anomalous ones never learnt):",
        "",
        "| scorer | held-out 0 % / 0.1 % / 1 % | validation 0 % / 0.1 % / 1 % |"
        " in-sample 0 % / 0.1 % / 1 % |",
        "|---|---|---|---|",
    ]
    for name, label in (
        ("profile", "request profile"),
        ("classifier", "classifier, value by value"),
        ("combined", "profile + classifier"),
    ):
        key = f"{name}_csic"
        lines.append(
            f"| {label} | {_row(key, held)} | {_row(key, validation)} | {_row(key, fit)} |"
        )
    lines += [
        "",
        f"Held-out: {held.get('csic_attacks', 0):.0f} anomalous / {held.get('csic_benign', 0):.0f}"
        f" normal requests; validation: {validation.get('csic_attacks', 0):.0f} /"
        f" {validation.get('csic_benign', 0):.0f}; in-sample: {fit.get('csic_attacks', 0):.0f} /"
        f" {fit.get('csic_benign', 0):.0f}. At the combined default threshold (1.0): held-out TPR"
        f" {_pct(held.get('combined_csic_tpr_default'))}, FPR"
        f" {_pct(held.get('combined_csic_fpr_default'))}; validation TPR"
        f" {_pct(validation.get('combined_csic_tpr_default'))}, FPR"
        f" {_pct(validation.get('combined_csic_fpr_default'))}. Scales: profile score"
        f" {validation.get('profile_scale', float('nan')):.3f} (validation,"
        f" FPR <= {100 * report.target_fpr:g} %), classifier"
        f" {validation.get('classifier_scale', float('nan')):.3f} (its default threshold)."
        " Issue 13's reference: OWASP CRS PL1 31.6 % at 0 % FPR on CSIC requests.",
        "",
    ]
    return lines


def _default_table(report: RequestTrainingReport) -> list[str]:
    lines = [
        "| source | rate | model held-out | model in-sample | signatures held-out |",
        "|---|---|---|---|---|",
    ]
    keys = sorted(key for key in report.held_out if key.endswith(("_tpr_default", "_fpr_default")))
    for key in keys:
        rate = "TPR" if "_tpr_" in key else "FPR"
        source = key.removesuffix("_tpr_default").removesuffix("_fpr_default")
        source = source.removesuffix("_attack").removesuffix("_benign")
        lines.append(
            f"| {source} | {rate} | {_pct(report.held_out.get(key))}"
            f" | {_pct(report.in_sample.get(key))} | {_pct(report.baseline_held_out.get(key))} |"
        )
    return lines


def _candidates(report: RequestTrainingReport) -> list[str]:
    lines = ["| candidate | validation TPR@0.1 % FPR | validation TPR@1 % FPR |", "|---|---|---|"]
    for name, figures in report.candidates.items():
        lines.append(
            f"| {name} | {_pct(figures.get('injection_tpr_at_fpr_0.1pct'))}"
            f" | {_pct(figures.get('injection_tpr_at_fpr_1pct'))} |"
        )
    return lines


def request_model_card(report: RequestTrainingReport, command: str) -> str:
    """The card as Markdown."""
    outcome = "promoted to `@champion`" if report.decision.promote else "kept as a challenger"
    fp_count = report.held_out.get("libinjection_fp_benign_count", 0.0)
    sections = [
        "# Model card: request-classifier",
        "",
        "_Written by `pipelines/train_request_classifier.py`; regenerated on every run._",
        "",
        _PURPOSE,
        _DATA,
        "## Figures",
        "",
        f"From `{command}` (sides: {report.counts['fit']} fit, {report.counts['validation']}"
        f" validation, {report.counts['test']} held-out texts; MLflow run {report.run_id}).",
        "",
        "TPR at FPR <= 0 %, 0.1 %, 1 %; the threshold is set on each group's own benign texts"
        " of that side (in-sample = the fit side):",
        "",
        *_tpr_table(report),
        "",
        *_by_parameter(report),
        f"At the default threshold {report.threshold:.6f} (validation FPR <="
        f" {100 * report.target_fpr:g} % on all benign texts and <="
        f" {100 * report.fp_list_target:g} % on the false-positive list; signatures at their"
        " inbound threshold):",
        "",
        *_default_table(report),
        "",
        f"FPR on the held-out part of `false_positives.txt` ({fp_count:.0f} lines):"
        f" {_pct(report.held_out.get('libinjection_fp_benign_fpr_default'))} (model),"
        f" {_pct(report.baseline_held_out.get('libinjection_fp_benign_fpr_default'))}"
        " (signatures).",
        "",
        "Reference points from issue 13 (held-out, at 0 % FPR): OWASP CRS PL1 97.7 % on single"
        " parameter values and 31.6 % on CSIC requests; libinjection 92.9 %.",
        "",
        *_profile_section(report),
        "## Candidates (validation, injection attacks vs all benign)",
        "",
        *_candidates(report),
        "",
        f"Chosen: **{report.best}**, registered as version {report.version}; gate:"
        f" {report.decision.reason} ({outcome}). Current champion: version"
        f" {report.champion_version or 'none'}. Fit time of all candidates: {report.fit_s:.0f} s.",
        "",
        _LIMITS,
    ]
    return "\n".join(sections)
