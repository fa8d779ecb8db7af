"""Train and evaluate a graph model on landmark CSVs with leakage-free, subject-grouped cross-validation.

    python -m experiments.train_graph --landmarks LANDMARKS_DIR [--labels labels.csv] --out RUN_DIR
        [--preset ridouan2025|agam2026] [--model NAME] [--folds K] [--epochs N] [--seed S] ...

Every statistic is learned inside the training part of each fold: the validation split (by subject),
standardisation, SMOTE, class weights and, with --tune, the hyperparameters. The run folder receives
config.json, folds.csv (reuse it with --folds-file), predictions.csv (out-of-fold probabilities per clip),
metrics.json (per fold, mean and std), history.json, confusion.png, curves.png and the fitted pipeline of
every fold (fold_models/).

The defaults (Procrustes-aligned shapes relative to the clip's own mean shape; Adam 3e-3, batch 16, 40
epochs) were chosen by measurement on the dynamics suite (python -m experiments.bench.defaults).
--jobs N trains N folds at once in worker processes (from a script of your own, call train_graph under
if __name__ == "__main__": since the workers re-import that script).

The presets reproduce the papers' set-ups; explicit options override them (listed below).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import graphs
import models
from landmarks.dataset.normalize import RELATIVE_TO
from models.stgcn import DEFAULT_GRAPH

from .command_options import (
    add_label_options,
    add_protocol_options,
    add_training_options,
    flag,
    presets_text,
    run_training,
    setting_adder,
)
from .cross_validation import cross_validate
from .graph_branch import PRESETS, settings_for
from .protocol import read_folds
from .run_folder import check_run_folder
from .settings import LENGTH_MODES, NORMALIZATIONS
from .tuning import tuning_cost

NOT_SETTINGS = ("landmarks", "labels", "preset", "folds_file", "out", "overwrite")


def train_graph(
    landmarks: str | os.PathLike,
    out: str | os.PathLike,
    labels: str | os.PathLike | None = None,
    preset: str | None = None,
    folds_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    **options,
) -> dict:
    """Load the data set, run the cross-validation and write ``out``; returns metrics.json's content.
    ``options`` are flat settings (model, folds, epochs, resample, seed ..., and the model's own options such
    as head or graph; see ``experiments.graph_branch.settings_for``). Every value is checked, and a folder
    ``out`` that already holds a run is refused unless ``overwrite``, before any data is read."""
    settings = settings_for(preset, **options)
    check_run_folder(out, overwrite)
    dataset = settings.load_dataset(landmarks, labels)
    folds = read_folds(folds_file, dataset.clips, dataset.subjects) if folds_file is not None else None
    config = {
        "landmarks": str(Path(landmarks).resolve()), "labels": None if labels is None else str(Path(labels).resolve()),
        "preset": preset, "folds_file": None if folds_file is None else str(folds_file),
        "dataset": dataset.summary(),
        "clip_frames": int(np.median(dataset.raw_frames)),  # frames per clip before resampling: new clips' window
    }
    print(dataset.summary(), file=sys.stderr)
    if settings.protocol.tune_trials:
        folds_count = len(set(folds)) if folds is not None else settings.protocol.folds
        print(tuning_cost(settings.protocol.tune_trials, folds_count), file=sys.stderr)
    return cross_validate(dataset, settings, out, folds=folds, config=config, overwrite=overwrite)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.train_graph",
        description=__doc__,
        epilog=presets_text(PRESETS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    setting = setting_adder()
    data = parser.add_argument_group("data")
    data.add_argument("--landmarks", required=True, help="folder of landmark CSVs (output of landmarks.extract)")
    add_label_options(data, setting, "landmark CSVs")
    setting(data, "--length", "frames per clip after resampling or padding", type=int)
    setting(data, "--length-mode", "how clips reach --length", choices=LENGTH_MODES)
    setting(data, "--normalize", "per-frame shape normalisation", choices=NORMALIZATIONS)
    setting(data, "--relative", "each frame minus the clip's own mean shape or first frame: the person's face "
            "shape removed, its movement kept", choices=RELATIVE_TO)
    setting(data, "--velocity", "add dx, dy channels (yes/no)", type=flag)
    setting(data, "--min-valid", "exclude clips with a smaller share of tracked frames", type=float)
    model = parser.add_argument_group("model (--head, --head-sizes, --pooling, --time-bins, --dropout, --graph "
                                      "and --implementation are options of the model's class; a model that does not "
                                      "take one refuses it)")
    graph_models = models.available_models("landmarks")
    setting(model, "--model", "; ".join(f"{name}: {text}" for name, text in graph_models.items()),
            choices=list(graph_models), metavar="NAME")
    model.add_argument("--head", choices=models.available_heads(), help="sequence head (stgcn-lstm)")
    model.add_argument("--head-sizes", type=int, nargs="+", metavar="UNITS",
                       help="LSTM widths of the head: one per layer of stacked (ridouan2025: 15 20), else one")
    model.add_argument("--pooling", choices=models.LANDMARK_POOLING,
                       help="stgcn-lstm: each frame's landmark features to the head as their mean (default) or "
                            "all of them (flatten)")
    model.add_argument("--time-bins", type=int, metavar="K",
                       help="stgcn: average the last block's features over K stretches of the clip, all K to "
                            "the classifier, so it knows when a movement happens (default 5; 1: one average)")
    model.add_argument("--dropout", type=float, metavar="P",
                       help="dropout in every ST-GCN block (stgcn-lstm default 0.25, stgcn 0, the presets 0)")
    model.add_argument("--graph", choices=graphs.available_graphs(),
                       help=f"facial graph the ST-GCN blocks convolve over (default {DEFAULT_GRAPH}, the published "
                            "174-edge graph, best on the dynamics suite; anatomical: ours, the default before "
                            "2026-12-06)")
    model.add_argument("--implementation", choices=models.IMPLEMENTATIONS, help="graph convolution (stgcn models)")
    protocol = parser.add_argument_group("protocol")
    protocol.add_argument("--preset", choices=list(PRESETS), help="the papers' settings, see above")
    add_protocol_options(protocol, setting)
    protocol.add_argument("--tune", dest="tune_trials", type=int, metavar="TRIALS",
                          help="search learning rate, batch size and dropout with TRIALS Optuna trials inside each "
                               "training part, scored on its validation subjects (never on test clips); costs "
                               "about TRIALS times an untuned run (default 0: off)")
    training = parser.add_argument_group("training")
    add_training_options(training, setting, "random rotation, scale, shift, mirror, time warps of landmark clips")
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run an --out folder already holds (its run files only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k not in NOT_SETTINGS}
    return run_training(lambda: train_graph(args.landmarks, args.out, args.labels, args.preset, args.folds_file,
                                            args.overwrite, **options), args.out)


if __name__ == "__main__":
    sys.exit(main())
