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
reached the best peer (and by 0.05 on hard variants), and the wall time. Variants train side by side,
one per core (``--jobs``), each on one thread.

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

import torch

from experiments.baselines import run_baseline
from experiments.reports import format_table
from experiments.settings import DataSettings
from experiments.train_graph import train_graph
from landmarks.parallel import run_jobs
from landmarks.synthetic.dynamics import DIFFICULTIES, TASKS, Difficulty, resolve_task, write_dynamics_task

DEEP = {"GRU": "gru", "STGCN": "stgcn", "STGCN-LSTM": "stgcn-lstm"}
LINEAR = {"frame-average LR": "frame-average", "temporal LR": "sequence"}
PEERS = ("frame-average LR", "temporal LR", "GRU")
GRAPH_MODELS = ("STGCN", "STGCN-LSTM")
DATA_NAMES = {f.name for f in DataSettings.__dataclass_fields__.values()}


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
) -> dict[str, float]:
    """One data set and one split: every model's pooled out-of-fold macro-F1 by name. The first run's
    folds.csv is every other run's split; the linear peers take the deep models' data settings (the
    order-blind one its mean shape, which a clip-relative representation would zero). ``amplitude``
    replaces the difficulty's movement strength (the hard levels' calibration scans it)."""
    level = task_level(task, difficulty, amplitude)
    data = root / f"{task}_{difficulty}{'' if amplitude is None else f'_a{amplitude:g}'}_seed{seed}"
    write_dynamics_task(data, task, level, subjects=subjects, clips_per_class=clips_per_class, seed=seed)
    labels, scores, folds_file = data / "labels.csv", {}, None
    data_options = {k: v for k, v in overrides.items() if k in DATA_NAMES}
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
    return scores


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


def score_variant(variant: Variant) -> dict[str, float]:
    """``run_variant`` for one ``Variant`` on one thread (a worker process's job, or the caller's)."""
    with one_thread():
        return run_variant(variant.task, variant.difficulty, variant.seed, variant.root, list(variant.models),
                           variant.overrides, variant.subjects, variant.clips_per_class, variant.amplitude)


def suite_table(results: dict[tuple[str, str], dict[str, list[float]]], models: list[str]) -> str:
    """Mean ± std over seeds of every model, a row per task and difficulty, with the verdict per graph model."""
    rows = []
    for (task, difficulty), by_model in results.items():
        row = {"task": f"{task} ({difficulty})"}
        for name in models:
            values = by_model[name]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            row[name] = f"{statistics.mean(values):.3f} ± {spread:.3f}"
        peers = [statistics.mean(by_model[p]) for p in PEERS if p in by_model]
        margin = 0.05 if difficulty == "hard" else 0.0
        for name in GRAPH_MODELS:
            if name in by_model and peers:
                row[f"{name} ok"] = "yes" if statistics.mean(by_model[name]) >= max(peers) + margin else "no"
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
        for index, scores in run_jobs(score_variant, variants, workers=args.jobs,
                                      describe=lambda v: f"{v.task} ({v.difficulty}) seed {v.seed}"):
            scored[index] = scores
            variant = variants[index]
            line = "  ".join(f"{name} {value:.3f}" for name, value in scores.items())
            print(f"{variant.task} ({variant.difficulty}) seed {variant.seed}: {line}  "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
        for index, variant in enumerate(variants):
            by_model = results.setdefault((variant.task, variant.difficulty), {name: [] for name in args.models})
            for name, value in scored[index].items():
                by_model[name].append(value)
    settings = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "train_graph defaults"
    print(f"macro-F1, pooled out-of-fold, mean ± std over seeds {', '.join(map(str, args.seeds))}; "
          f"5 subject-grouped folds; {args.subjects} subjects x {args.clips_per_class} clips per class; "
          f"deep models at {settings}")
    print(suite_table(results, args.models))
    print(f"suite wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
