"""The dynamics suite: do the graph models learn how a face moves? Tasks whose classes differ only in
their time course (``landmarks.synthetic.dynamics``: order, phasic vs tonic, speed, apex timing), each
clean and hard (each task's hard movement as strong as leaves its best simple peer about 0.75 macro-F1:
``experiments.bench.hard_levels``), on real face shapes; for each task, difficulty and seed one
subject-grouped split, and under it the graph models at ``experiments.train_graph``'s defaults beside
their simple peers:

- ``frame-average LR``: logistic regression on each clip's mean shape (order-blind);
- ``temporal LR``: logistic regression on the flattened, standardised sequence;
- ``GRU``: a GRU on each frame's 136 coordinates (order-aware, no graph);
- ``STGCN`` and ``STGCN-LSTM``.

Prints macro-F1 (pooled out-of-fold) mean ± std over seeds per task and model, whether each graph model
reached the best peer (and by 0.05 on hard variants), and the wall time; then each graph model's lead over
the best peer with a 95% interval from a bootstrap over subjects (both models scored on the same draws),
which says whether the suite's clips settle a verdict or a clip or two could turn it. Variants train side
by side, one per core (``--jobs``), each on one thread.

    python -m experiments.bench.dynamics [--tasks order speed] [--difficulties hard] [--seeds 0 1 2]
        [--set lr=3e-3 --set velocity=yes]   # other settings for every deep model (a sweep of defaults)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from experiments.baselines import run_baseline
from experiments.comparison import RunScores, interval, load_runs, subject_bootstrap, weighted_scores
from experiments.reports import format_table
from experiments.settings import DataSettings
from experiments.train_graph import train_graph
from landmarks.parallel import run_jobs
from landmarks.synthetic.dynamics import DIFFICULTIES, TASKS, Difficulty, resolve_task, write_dynamics_task

DEEP = {"GRU": "gru", "STGCN": "stgcn", "STGCN-LSTM": "stgcn-lstm"}
LINEAR = {"frame-average LR": "frame-average", "temporal LR": "sequence"}
PEERS = ("frame-average LR", "temporal LR", "GRU")
GRAPH_MODELS = ("STGCN", "STGCN-LSTM")
# what the linear peers take of --set: the data settings, and how many training subjects are held out (a
# peer fitted on fewer subjects than the deep models would be handicapped)
PEER_SETTINGS = {f.name for f in DataSettings.__dataclass_fields__.values()} | {"validation_share"}
RESAMPLES = 2000  # subject-bootstrap draws per data set behind each verdict's interval


def parse_value(text: str) -> Any:
    """A ``--set`` value: yes/no, a number, a comma-separated tuple of numbers, or text."""
    lowered = text.lower()
    if lowered in ("yes", "true", "no", "false"):
        return lowered in ("yes", "true")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if "," in text:
        return tuple(parse_value(part) for part in text.split(","))
    return text


def parse_amplitude(text: str) -> float:
    """A movement amplitude on the command line: a share of the full action units, in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"an amplitude lies in (0, 1] (1 is the full action units), got {text!r}")
    return value


def parse_set(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE (for instance lr=3e-3), got {text!r}")
    return name.replace("-", "_"), parse_value(value)


def quietly(function, *args, **kwargs):
    """Run a training without its progress bars and per-fold lines (the suite prints its own table)."""
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def task_level(task: str, difficulty: str, amplitude: float | None = None) -> Difficulty:
    """The level a variant's clips are drawn at: the named difficulty (``hard`` at the task's calibrated
    amplitude), its movement amplitude replaced when one is given (the calibration's scan, the old level)."""
    level = resolve_task(task, difficulty)[1]
    return level if amplitude is None else replace(level, amplitude=amplitude)


def run_variant(
    task: str, difficulty: str, seed: int, root: Path, models: list[str], overrides: dict[str, Any],
    subjects: int, clips_per_class: int, amplitude: float | None = None,
) -> tuple[dict[str, float], dict[str, RunScores]]:
    """One data set and one split: every model's pooled out-of-fold macro-F1 by name, and its out-of-fold
    predictions aligned clip by clip (what the verdicts' intervals resample). The first run's folds.csv is
    every other run's split; the linear peers take the deep models' data settings and validation share (the
    order-blind one its mean shape, which a clip-relative representation would zero). ``amplitude`` replaces
    the difficulty's movement strength (the hard levels' calibration scans it)."""
    level = task_level(task, difficulty, amplitude)
    data = root / f"{task}_{difficulty}{'' if amplitude is None else f'_a{amplitude:g}'}_seed{seed}"
    write_dynamics_task(data, task, level, subjects=subjects, clips_per_class=clips_per_class, seed=seed)
    labels, scores, folds_file, outs = data / "labels.csv", {}, None, {}
    data_options = {k: v for k, v in overrides.items() if k in PEER_SETTINGS}
    for name in models:
        out = root / f"{data.name}_{name.replace(' ', '_')}"
        if name in DEEP:
            metrics = quietly(train_graph, data, out, labels=labels, folds_file=folds_file, seed=seed,
                              overwrite=True, **{**overrides, "model": DEEP[name]})
        else:
            options = {**data_options, "relative": "none"} if LINEAR[name] == "frame-average" else data_options
            if folds_file is None:
                raise SystemExit("give a deep model first: the linear peers take its folds.csv")
            metrics = quietly(run_baseline, data, out, labels=labels, folds_file=folds_file, features=LINEAR[name],
                              seed=seed, overwrite=True, **options)
        folds_file = folds_file or out / "folds.csv"
        scores[name] = metrics["pooled"]["f1_macro"]
        outs[name] = out
    return scores, dict(zip(outs, load_runs(list(outs.values()), list(outs)), strict=True))


@dataclass(frozen=True)
class Variant:
    """One task, difficulty and seed of the suite, with what every run of it takes."""

    task: str
    difficulty: str
    seed: int
    root: Path
    models: tuple[str, ...]
    overrides: dict[str, Any]
    subjects: int
    clips_per_class: int
    amplitude: float | None = None  # the difficulty's own unless given


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Every variant trains on one thread, so its scores are the same whatever ``--jobs`` (torch's sums
    over several threads may round differently), and tiny models gain more from variants side by side than
    from threads within one. The caller's thread count comes back afterwards: with ``--jobs 1`` (or from
    Python) variants run in the calling process, which must not stay on one thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_variant_of(variant: Variant) -> tuple[dict[str, float], dict[str, RunScores]]:
    """``run_variant`` for one ``Variant`` on one thread (a worker process's job, or the caller's)."""
    with one_thread():
        return run_variant(variant.task, variant.difficulty, variant.seed, variant.root, list(variant.models),
                           variant.overrides, variant.subjects, variant.clips_per_class, variant.amplitude)


def score_variant(variant: Variant) -> dict[str, float]:
    """Every model's pooled out-of-fold macro-F1 on one ``Variant`` (what the calibration needs)."""
    return run_variant_of(variant)[0]


def hard_margin(difficulty: str) -> float:
    """How far above the best peer a graph model must score: 0.05 on hard variants, nothing on clean ones."""
    return 0.05 if difficulty == "hard" else 0.0


def best_peer_name(by_model: dict[str, list[float]]) -> str | None:
    """The simple peer with the highest mean macro-F1 over seeds (the verdicts' bar), or None without peers."""
    peers = [name for name in PEERS if name in by_model]
    return max(peers, key=lambda name: statistics.mean(by_model[name])) if peers else None


def difference_interval(graph: list[RunScores], peer: list[RunScores], seed: int = 0,
                        resamples: int = RESAMPLES) -> tuple[float, float, float]:
    """A graph model's lead over a peer: the mean over seeds of their pooled macro-F1 difference, with its
    95% interval from a bootstrap over subjects, drawn anew in every seed's data set (one list entry per
    seed, both runs on the same clips). Both models are scored on the same draws, so the interval is of the
    paired difference, and it tells a verdict the clips decide from one a clip or two could turn."""
    point, draws = [], []
    for index, (ours, theirs) in enumerate(zip(graph, peer, strict=True)):
        if not np.array_equal(ours.y, theirs.y) or not np.array_equal(ours.subjects, theirs.subjects):
            raise ValueError(f"{ours.name} and {theirs.name} were not scored on the same clips")
        weights = subject_bootstrap(ours.subjects, resamples, seed + index)
        ours_drawn, theirs_drawn = (weighted_scores(run.y, run.predicted, weights, len(run.classes))["f1_macro"]
                                    for run in (ours, theirs))
        draws.append(ours_drawn - theirs_drawn)
        point.append(ours.pooled["f1_macro"] - theirs.pooled["f1_macro"])
    low, high = interval(np.mean(draws, axis=0))
    return float(np.mean(point)), low, high


def settled(low: float, high: float, bar: float) -> str:
    """Whether a verdict at ``bar`` stands whatever the bootstrap draws: ``met``, ``missed`` or ``open``."""
    return "met" if low >= bar else "missed" if high < bar else "open"


def interval_table(results: dict[tuple[str, str], dict[str, list[float]]],
                   runs: dict[tuple[str, str], dict[str, list[RunScores]]], models: list[str]) -> str:
    """Per task and difficulty, each graph model's lead over the best peer with its 95% subject-bootstrap
    interval, the bar (0 clean, 0.05 hard) and whether the interval settles the verdict."""
    rows = []
    for key, by_model in results.items():
        peer = best_peer_name(by_model)
        if peer is None:
            continue
        task, difficulty = key
        bar = hard_margin(difficulty)
        row = {"task": f"{task} ({difficulty})", "peer": peer, "bar": f"{bar:+.2f}"}
        for name in GRAPH_MODELS:
            if name in by_model:
                lead, low, high = difference_interval(runs[key][name], runs[key][peer])
                row[name] = f"{lead:+.3f} [{low:+.3f}, {high:+.3f}] {settled(low, high, bar)}"
        rows.append(row)
    graph = [name for name in GRAPH_MODELS if name in models]
    return format_table(rows, [("task", "task", ""), ("peer", "best peer", ""), ("bar", "bar", ""),
                               *((name, f"{name} - best peer [95%]", "") for name in graph)])


def suite_table(results: dict[tuple[str, str], dict[str, list[float]]], models: list[str]) -> str:
    """Mean ± std over seeds of every model, a row per task and difficulty, with the verdict per graph model."""
    rows = []
    for (task, difficulty), by_model in results.items():
        row = {"task": f"{task} ({difficulty})"}
        for name in models:
            values = by_model[name]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            row[name] = f"{statistics.mean(values):.3f} ± {spread:.3f}"
        peer = best_peer_name(by_model)
        for name in GRAPH_MODELS:
            if name in by_model and peer is not None:
                bar = statistics.mean(by_model[peer]) + hard_margin(difficulty)
                row[f"{name} ok"] = "yes" if statistics.mean(by_model[name]) >= bar else "no"
        rows.append(row)
    verdicts = [f"{name} ok" for name in GRAPH_MODELS if name in models]
    return format_table(rows, [("task", "task", ""), *((m, m, "") for m in models), *((v, v, "") for v in verdicts)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--difficulties", nargs="+", default=list(DIFFICULTIES), choices=list(DIFFICULTIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--subjects", type=int, default=15, help="subjects per data set (5 subject-grouped folds)")
    parser.add_argument("--clips-per-class", type=int, default=2, help="clips per subject and class")
    parser.add_argument("--models", nargs="+", default=[*DEEP, *LINEAR], choices=[*DEEP, *LINEAR],
                        help="deep models first: the linear peers reuse the first run's folds.csv")
    parser.add_argument("--set", dest="overrides", type=parse_set, action="append", default=[], metavar="NAME=VALUE",
                        help="a training setting for every deep model instead of its default (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="variants trained at once, each in its own process on one thread (default: one per "
                             "core); the scores do not depend on it")
    parser.add_argument("--hard-amplitude", type=parse_amplitude, default=None, metavar="A",
                        help="one movement amplitude for every task's hard level instead of its calibrated own "
                             "(landmarks.synthetic.dynamics.HARD_AMPLITUDES); 0.4 is the suite before the "
                             "calibration")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the data and run folders here (default: temporary)")
    args = parser.parse_args(argv)
    overrides = dict(args.overrides)
    started = time.perf_counter()
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        variants = [Variant(task, difficulty, seed, root, tuple(args.models), overrides, args.subjects,
                            args.clips_per_class, args.hard_amplitude if difficulty == "hard" else None)
                    for task in args.tasks for difficulty in args.difficulties for seed in args.seeds]
        scored: dict[int, dict[str, float]] = {}
        kept: dict[int, dict[str, RunScores]] = {}
        for index, (scores, predictions) in run_jobs(run_variant_of, variants, workers=args.jobs,
                                                     describe=lambda v: f"{v.task} ({v.difficulty}) seed {v.seed}"):
            scored[index], kept[index] = scores, predictions
            variant = variants[index]
            line = "  ".join(f"{name} {value:.3f}" for name, value in scores.items())
            print(f"{variant.task} ({variant.difficulty}) seed {variant.seed}: {line}  "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
        runs: dict[tuple[str, str], dict[str, list[RunScores]]] = {}
        for index, variant in enumerate(variants):
            key = (variant.task, variant.difficulty)
            by_model = results.setdefault(key, {name: [] for name in args.models})
            for name, value in scored[index].items():
                by_model[name].append(value)
                runs.setdefault(key, {}).setdefault(name, []).append(kept[index][name])
    settings = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "train_graph defaults"
    print(f"macro-F1, pooled out-of-fold, mean ± std over seeds {', '.join(map(str, args.seeds))}; "
          f"5 subject-grouped folds; {args.subjects} subjects x {args.clips_per_class} clips per class; "
          f"deep models at {settings}")
    print(suite_table(results, args.models))
    if any(name in args.models for name in GRAPH_MODELS) and any(name in args.models for name in PEERS):
        print(f"\nlead over the best peer (mean over seeds), 95% interval from {RESAMPLES} bootstrap draws of "
              "subjects per data set; met / missed: the whole interval is above / below the bar, open: it "
              "straddles it")
        print(interval_table(results, runs, args.models))
    print(f"suite wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
