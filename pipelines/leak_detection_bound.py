"""How soon any detector can notice the simulator's memory leaks, and what that leaves of the
chaos benchmark's p95 targets: an oracle's upper bound, next to what a run measured.

Usage:

    python pipelines/leak_detection_bound.py [--report F.json ...] [--false-signs 0.5]
        [--horizons 300,600,900,1200,1800] [--step 30] [--plot FILE.png]

1. For each horizon T (seconds after a leak starts): the oracle's detectability d' (watching
   continuously, and sampling every ``--step`` s), and the most any detector raising
   ``--false-signs`` false signs per platform-day (and ten times that) can have noticed by T,
   at severities 0.6, 0.8 and 1.0 and averaged over the schedule's severities
   (:mod:`selfheal_ml.evaluation.leak_bound` has the argument; the noise and the leak's rate
   are the simulator's own constants).
2. With ``--report`` (a chaos benchmark's JSON report, one or more): the share of the run's
   leaks its detectors had noticed by each T, against the bound; and the most likely an
   oracle would have met the p95 targets on that run (time to detect <= ``--detect-limit``,
   time to repair <= ``--repair-limit``) with the run's other faults as they were, the leaks
   drawn from the bound, and as many leaks left undetected or unrepaired as the rate targets
   (``--detection-target``, ``--resolution-target``) still allow. For the repair time, a
   leak must be noticed by the limit less the run's quickest notice-to-repair of a leak.
3. With ``--plot``: the bound over the first hour (severities 0.6 and 1.0, and the mean) and
   each report's leaks, the share noticed by each time, drawn as a PNG.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from selfheal_ml.evaluation.chaos import seconds_after_injection
from selfheal_ml.evaluation.detection import percentile
from selfheal_ml.evaluation.leak_bound import (
    detectability,
    detected_share_bound,
    mean_detected_share_bound,
    quantile_target_chance,
    sampled_detectability,
)
from selfheal_ml.sim.drivers import HOST_NOISE_SD, HOST_NOISE_TAU_S
from selfheal_ml.sim.dynamics import DISK_NOISE_SCALE
from selfheal_ml.sim.effects import DISK_FILL_PERCENT_PER_S, MEMORY_LEAK_PERCENT_PER_S
from selfheal_ml.sim.schedule import SEVERITY_RANGE

SIGMA = HOST_NOISE_SD[1]  # memory
DISK_SIGMA = HOST_NOISE_SD[2] * DISK_NOISE_SCALE
LEAK = "memory_leak"
DISK = "disk_filling"


def bound_table(horizons: list[float], false_signs: float, step_s: float) -> list[str]:
    """Part 1's lines: d' and the bound on the share noticed, per horizon."""
    lines = [
        f"memory noise sd {SIGMA:g} points, time constant {HOST_NOISE_TAU_S:g} s; a leak grows"
        f" {MEMORY_LEAK_PERCENT_PER_S * 3600:g} points an hour at full severity (severity"
        f" {SEVERITY_RANGE[0]:g}-{SEVERITY_RANGE[1]:g})",
        f"| T (s) | d' at severity 1 (continuous / every {step_s:g} s) | most noticed at"
        f" {false_signs:g} false signs a day: severity 0.6 / 0.8 / 1.0 / mean | mean at"
        f" {10 * false_signs:g} a day |",
        "|---|---|---|---|",
    ]
    for horizon in horizons:
        continuous = detectability(horizon, MEMORY_LEAK_PERCENT_PER_S, SIGMA, HOST_NOISE_TAU_S)
        sampled = sampled_detectability(
            horizon, MEMORY_LEAK_PERCENT_PER_S, SIGMA, HOST_NOISE_TAU_S, step_s
        )
        shares = [_share_bound(horizon, severity, false_signs) for severity in (0.6, 0.8, 1.0)]
        mean = _mean_bound(horizon, false_signs)
        noisier = _mean_bound(horizon, 10 * false_signs)
        lines.append(
            f"| {horizon:,.0f} | {continuous:.2f} / {sampled:.2f} | "
            + " / ".join(f"{share:.1%}" for share in shares)
            + f" / **{mean:.1%}** | {noisier:.1%} |"
        )
    disk = mean_detected_share_bound(
        300.0, DISK_FILL_PERCENT_PER_S, SEVERITY_RANGE, DISK_SIGMA, HOST_NOISE_TAU_S, false_signs
    )
    lines.append(
        f"for contrast, a filling disk ({DISK_FILL_PERCENT_PER_S * 3600:g} points an hour in"
        f" noise of sd {DISK_SIGMA:g}): d' at 300 s, severity 1,"
        f" {detectability(300.0, DISK_FILL_PERCENT_PER_S, DISK_SIGMA, HOST_NOISE_TAU_S):.1f};"
        f" most noticed by 300 s, mean {disk:.1%}"
    )
    return lines


def _share_bound(horizon_s: float, severity: float, false_signs: float) -> float:
    slope = severity * MEMORY_LEAK_PERCENT_PER_S
    return detected_share_bound(horizon_s, slope, SIGMA, HOST_NOISE_TAU_S, false_signs)


def _mean_bound(horizon_s: float, false_signs: float) -> float:
    return mean_detected_share_bound(
        horizon_s, MEMORY_LEAK_PERCENT_PER_S, SEVERITY_RANGE, SIGMA, HOST_NOISE_TAU_S, false_signs
    )


def _repaired(fault: dict[str, Any]) -> bool:
    return fault["resolved_by"] not in (None, "expired") and bool(fault["resolved_at"])


def report_lines(
    path: Path, horizons: list[float], false_signs: float, args: argparse.Namespace
) -> list[str]:
    """Part 2's lines for one report."""
    report = json.loads(path.read_text())
    faults: list[dict[str, Any]] = report["faults"]
    leaks = [fault for fault in faults if fault["kind"] == LEAK]
    others = [fault for fault in faults if fault["kind"] != LEAK]
    if not leaks:
        return [f"{path}: no memory leaks"]
    leak_detect = [seconds_after_injection(fault, "detected_at") for fault in leaks]
    lines = [
        f"{path} (seed {report.get('seed')}): {len(leaks)} leaks of {len(faults)} faults;"
        f" leaks noticed by T, this run / the oracle's most:"
    ]
    for horizon in horizons:
        noticed = sum(1 for value in leak_detect if value is not None and value <= horizon)
        lines.append(
            f"  T {horizon:,.0f} s: {noticed}/{len(leaks)} ({noticed / len(leaks):.1%})"
            f" / {_mean_bound(horizon, false_signs):.1%}"
        )
    disks = [
        seconds_after_injection(fault, "detected_at") for fault in faults if fault["kind"] == DISK
    ]
    if disks:
        early = sum(1 for value in disks if value is not None and value <= args.detect_limit)
        lines.append(
            f"  filling disks noticed by {args.detect_limit:g} s: {early}/{len(disks)}"
            f" ({early / len(disks):.1%})"
        )
    return lines + target_chances(faults, leaks, others, false_signs, args)


def target_chances(
    faults: list[dict[str, Any]],
    leaks: list[dict[str, Any]],
    others: list[dict[str, Any]],
    false_signs: float,
    args: argparse.Namespace,
) -> list[str]:
    """The other faults' p95s, and the most likely an oracle meets each p95 target on the run
    (the leaks drawn from the bound, as many left without a time as the rate targets allow)."""
    total = len(faults)
    other_detect = [
        t for fault in others if (t := seconds_after_injection(fault, "detected_at")) is not None
    ]
    may_miss_detect = (
        total - math.ceil(args.detection_target * total) - (len(others) - len(other_detect))
    )
    detect_chance = quantile_target_chance(
        other_detect, len(leaks), _mean_bound(args.detect_limit, false_signs),
        args.detect_limit, may_miss=max(0, may_miss_detect),
    )  # fmt: skip
    other_repair = [
        t
        for fault in others
        if _repaired(fault) and (t := seconds_after_injection(fault, "resolved_at")) is not None
    ]
    gaps = [
        repair - detect
        for fault in leaks
        if _repaired(fault)
        and (detect := seconds_after_injection(fault, "detected_at")) is not None
        and (repair := seconds_after_injection(fault, "resolved_at")) is not None
    ]
    quickest = min(gaps) if gaps else 0.0
    may_miss_repair = (
        total - math.ceil(args.resolution_target * total) - (len(others) - len(other_repair))
    )
    repair_chance = quantile_target_chance(
        other_repair, len(leaks), _mean_bound(args.repair_limit - quickest, false_signs),
        args.repair_limit, may_miss=max(0, may_miss_repair),
    )  # fmt: skip
    return [
        f"  the other {len(others)} faults: time to detect p95"
        f" {percentile(other_detect, 0.95) or 0:,.0f} s, time to repair p95"
        f" {percentile(other_repair, 0.95) or 0:,.0f} s",
        f"  the most likely an oracle meets time to detect p95 <= {args.detect_limit:g} s on"
        f" this run: {detect_chance:.2g}",
        f"  ... time to repair p95 <= {args.repair_limit:g} s (a leak noticed by"
        f" {args.repair_limit - quickest:,.0f} s: the run's quickest notice-to-repair of a leak"
        f" was {quickest:,.0f} s): {repair_chance:.2g}",
    ]


def leak_detect_times(path: Path) -> tuple[str, list[float | None]]:
    """A report's label (its seed) and its leaks' times to detect (``None``: never noticed)."""
    report = json.loads(path.read_text())
    faults: list[dict[str, Any]] = report["faults"]
    times = [
        seconds_after_injection(fault, "detected_at") for fault in faults if fault["kind"] == LEAK
    ]
    return f"seed {report.get('seed')}", times


def plot(out: Path, reports: list[Path], false_signs: float, detect_limit: float) -> None:
    """Part 3: the bound's curves and the reports' leaks, as ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    horizons = np.linspace(0.0, 3600.0, 241)
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for severity, style in ((1.0, ":"), (0.6, "--")):
        shares = [_share_bound(h, severity, false_signs) for h in horizons]
        axes.plot(horizons / 60, shares, style, color="grey", label=f"bound, severity {severity:g}")
    means = [_mean_bound(h, false_signs) for h in horizons]
    axes.plot(horizons / 60, means, color="black", label="bound, the schedule's severities")
    for path in reports:
        label, times = leak_detect_times(path)
        if not times:
            continue
        noticed = sorted(value for value in times if value is not None)
        steps = [sum(1 for value in noticed if value <= h) / len(times) for h in horizons]
        axes.step(horizons / 60, steps, where="post", label=f"{label}: {len(times)} leaks")
    axes.axvline(detect_limit / 60, color="red", linewidth=0.8, label="the p95 target")
    axes.set_xlabel("minutes since the leak started")
    axes.set_ylabel("share of leaks noticed")
    axes.set_title(f"Leaks noticed: any detector at {false_signs:g} false signs a day, at most")
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--report", nargs="*", default=[], help="chaos benchmark JSON reports")
    parser.add_argument(
        "--false-signs", type=float, default=0.5, help="false signs per platform-day allowed"
    )
    parser.add_argument(
        "--horizons", default="300,600,900,1200,1800", help="seconds after a leak starts"
    )
    parser.add_argument("--step", type=float, default=30.0, help="a sampling interval, s")
    parser.add_argument("--detect-limit", type=float, default=300.0, help="p95 target, s")
    parser.add_argument("--repair-limit", type=float, default=900.0, help="p95 target, s")
    parser.add_argument("--detection-target", type=float, default=0.98, help="detection rate")
    parser.add_argument("--resolution-target", type=float, default=0.95, help="resolved share")
    parser.add_argument("--plot", type=Path, help="draw the bound and the reports' leaks (PNG)")
    args = parser.parse_args(argv)
    if args.false_signs <= 0 or args.step <= 0:
        parser.error("--false-signs and --step: expected > 0")
    try:
        horizons = [float(text) for text in args.horizons.split(",")]
    except ValueError:
        parser.error(f"--horizons: expected comma-separated seconds, got {args.horizons!r}")
    for path in args.report:
        if not Path(path).is_file():
            parser.error(f"--report: no such file {path}")
        try:
            loaded = json.loads(Path(path).read_text())
        except json.JSONDecodeError:
            loaded = None
        readable = isinstance(loaded, dict) and "faults" in loaded
        if not readable:
            parser.error(f"--report: {path} is not a chaos benchmark's JSON report")
    for line in bound_table(horizons, args.false_signs, args.step):
        print(line)
    for path in args.report:
        print()
        for line in report_lines(Path(path), horizons, args.false_signs, args):
            print(line)
    if args.plot is not None:
        plot(args.plot, [Path(path) for path in args.report], args.false_signs, args.detect_limit)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
