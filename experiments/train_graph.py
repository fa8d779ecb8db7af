"""Train and evaluate a graph model on landmark CSVs with leakage-free, subject-grouped cross-validation.

    python -m experiments.train_graph --landmarks LANDMARKS_DIR [--labels labels.csv] --out RUN_DIR
        [--preset ridouan2025|agam2026] [--model stgcn-lstm] [--folds 5] [--epochs 150] [--seed 0] ...

Every statistic is learned inside the training part of each fold: the validation split (by subject),
standardisation, SMOTE and class weights. The run folder receives config.json, folds.csv (reuse it with
--folds-file), predictions.csv (out-of-fold probabilities per clip), metrics.json (per fold, mean and std),
history.json, confusion.png, curves.png and the selected weights of every fold (fold_models/).
--jobs N trains N folds at once in worker processes (from a script of your own, call train_graph under
if __name__ == "__main__": since the workers re-import that script).

Presets (explicit options override them):
  ridouan2025  STGCN-LSTM with stacked LSTM head (15, 20 units), SMOTE, Adam 1e-4 decayed 0.96 every 1000 steps,
               150 epochs, batch 10, 5 folds, labels pemf-binary (pain vs no pain)
  agam2026     the same model and optimiser, labels phasic-tonic (3 classes), focal loss (alpha 0.25,
               gamma 2) with conservative class weights (capped at 3), no oversampling
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import models
from landmarks.labels import PRESETS as LABEL_PRESETS

from .cross_validation import cross_validate, results_table
from .losses import WEIGHT_SCHEMES
from .protocol import read_folds
from .resampling import METHODS
from .run_folder import check_run_folder
from .settings import NORMALIZATIONS, PRESETS, settings_for


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
    ``options`` are fields of ``GraphTrainingSettings`` (model, folds, epochs, resample, seed ...). A folder
    ``out`` that already holds a run is refused, before any data is read, unless ``overwrite``."""
    settings = settings_for(preset, **options)
    check_run_folder(out, overwrite)
    dataset = settings.load_dataset(landmarks, labels)
    folds = read_folds(folds_file, dataset.clips, dataset.subjects) if folds_file is not None else None
    config = {
        "landmarks": str(Path(landmarks).resolve()), "labels": None if labels is None else str(Path(labels).resolve()),
        "preset": preset, "folds_file": None if folds_file is None else str(folds_file),
        "dataset": dataset.summary(),
    }
    print(dataset.summary(), file=sys.stderr)
    return cross_validate(dataset, settings, out, folds=folds, config=config, overwrite=overwrite)


def _flag(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.train_graph",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--landmarks", required=True, help="folder of landmark CSVs (output of landmarks.extract)")
    data.add_argument("--labels", help="CSV with clip,label[,subject]; default: labels from a path component")
    data.add_argument("--ignore-unlabelled", action="store_true", default=None,
                      help="with --labels: train on the listed clips only, leaving out other CSVs (default: refuse)")
    data.add_argument("--label-map", help=f"map path components to classes: {', '.join(LABEL_PRESETS)}")
    data.add_argument("--label-component", type=int, help="path component holding the label (default 1)")
    data.add_argument("--subject-component", type=int, help="path component holding the subject (default 0)")
    data.add_argument("--length", type=int, help="frames per clip after resampling or padding (default 20)")
    data.add_argument("--length-mode", choices=("resample", "pad"), help="how clips reach --length")
    data.add_argument("--normalize", choices=NORMALIZATIONS, help="per-frame shape normalisation (default eyes)")
    data.add_argument("--velocity", type=_flag, help="add dx, dy channels (yes/no)")
    data.add_argument("--min-valid", type=float, help="exclude clips with a smaller share of tracked frames")
    model = parser.add_argument_group("model")
    model.add_argument("--model", choices=[m for m in models.available_models()], help="default stgcn-lstm")
    model.add_argument("--head", choices=models.available_heads(), help="sequence head of stgcn-lstm")
    model.add_argument("--head-sizes", type=int, nargs="+", metavar="UNITS",
                       help="LSTM widths of the head: one per layer of stacked (ridouan2025: 15 20), else one")
    model.add_argument("--graph", help="facial graph name (default anatomical)")
    model.add_argument("--implementation", choices=models.IMPLEMENTATIONS, help="graph convolution (default dense)")
    protocol = parser.add_argument_group("protocol")
    protocol.add_argument("--preset", choices=list(PRESETS), help="the papers' settings, see above")
    protocol.add_argument("--folds", type=int, help="subject-grouped folds (default 5)")
    protocol.add_argument("--folds-file", help="reuse the split of an earlier run's folds.csv")
    protocol.add_argument("--validation-share", type=float, help="share of training subjects for validation")
    protocol.add_argument("--resample", choices=METHODS, help="oversampling of training parts (default smote)")
    protocol.add_argument("--class-weights", choices=WEIGHT_SCHEMES, help="loss weights per class (default none)")
    protocol.add_argument("--loss", choices=("ce", "focal"), help="cross-entropy or focal loss (default ce)")
    protocol.add_argument("--focal-alpha", type=float)
    protocol.add_argument("--focal-gamma", type=float)
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, help="default 150")
    training.add_argument("--batch-size", type=int, help="default 10")
    training.add_argument("--lr", type=float, help="initial learning rate (default 1e-4)")
    training.add_argument("--decay-rate", type=float, help="learning rate x this every --decay-steps steps")
    training.add_argument("--decay-steps", type=int)
    training.add_argument("--patience", type=int, help="early stopping after N epochs without progress; 0 = off")
    training.add_argument("--augment", type=_flag, help="random rotation, scale, shift, mirror, time warps (yes/no)")
    training.add_argument("--seed", type=int, default=0,
                          help="same seed, same --jobs, same machine: same metrics.json")
    training.add_argument("--jobs", type=int,
                          help="folds trained at once in worker processes sharing the cores (default 1)")
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run an --out folder already holds (its run files only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    not_settings = ("landmarks", "labels", "preset", "folds_file", "out", "overwrite")
    options = {k: v for k, v in vars(args).items() if k not in not_settings}
    try:
        metrics = train_graph(args.landmarks, args.out, args.labels, args.preset, args.folds_file, args.overwrite,
                              **options)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(results_table(metrics))
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
