"""Train and evaluate an image model on face crops with leakage-free, subject-grouped cross-validation.

    python -m experiments.train_image --crops CROPS_DIR [--labels labels.csv] --out RUN_DIR
        [--preset ridouan2025|agam2026] [--model NAME] [--backbone NAME] [--head NAME]
        [--pretrained imagenet|none] [--weights PATH] [--finetune yes] [--folds-file graph_run/folds.csv] ...

CROPS_DIR is the output of python -m landmarks.crops. The engine, protocol and run folder are the graph
branch's (experiments.train_graph): subject-grouped folds (--folds-file takes a graph run's folds.csv, so
both branches see the same split clip for clip), a subject-grouped validation part inside each training
part, class weights, focal loss, oversampling inside training parts, predictions with p_<class>, metrics,
plots and reloadable fold models.

By default the backbone is frozen: it runs once per frame over the data set, its features are cached on
disk (--feature-cache; a change of backbone, weights, size or crops recomputes them) and the heads train
on the cached sequences, in seconds on a CPU. --finetune yes trains the backbone too, in two stages
(frozen for --frozen-epochs, then unfrozen at --finetune-lr), with --augment yes applying the papers'
rotation, shift, zoom, shear and flip to whole clips; use --device cuda on a machine with a GPU.

--pretrained imagenet (the default) takes the backbone's ImageNet weights from this machine's caches (timm's
Hugging Face cache or torch hub's checkpoints), or --weights PATH from a file; when neither is there the
run stops and says where to put the file. --pretrained none trains from scratch. config.json records the
weights' source and SHA-256.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import models
from landmarks.dataset.normalize import RELATIVE_TO
from landmarks.face_crops import load_crops
from models.backbones import PRETRAINED

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
from .feature_cache import crop_settings
from .image_branch import DEFAULT_IMAGE_MODEL, GROUPS, PRESETS, describe_weights, image_settings_for, prepare_inputs
from .protocol import read_folds
from .run_folder import check_run_folder

NOT_SETTINGS = ("crops", "labels", "preset", "folds_file", "out", "overwrite")


def train_image(
    crops: str | os.PathLike,
    out: str | os.PathLike,
    labels: str | os.PathLike | None = None,
    preset: str | None = None,
    folds_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool = True,
    **options,
) -> dict:
    """Load the crops, run the cross-validation and write ``out``; returns metrics.json's content.
    ``options`` are flat settings (model, backbone, head, pretrained, weights, finetune, size, epochs,
    folds, seed ...; see ``experiments.image_branch.image_settings_for``). Every value, and the pretrained
    weights, are checked before any data is read."""
    settings = image_settings_for(preset, **options)
    check_run_folder(out, overwrite)
    print(describe_weights(settings), file=sys.stderr)
    dataset = settings.data.load(crops, labels)
    print(dataset.summary(), file=sys.stderr)
    folds = read_folds(folds_file, dataset.clips, dataset.subjects) if folds_file is not None else None
    dataset_paths = dataset.X.paths
    dataset = prepare_inputs(dataset, settings, progress)
    config = {
        "crops": str(Path(crops).resolve()), "labels": None if labels is None else str(Path(labels).resolve()),
        "preset": preset, "folds_file": None if folds_file is None else str(folds_file),
        "dataset": dataset.summary(), "weights": settings.weights_source.as_dict(),
        "crop_settings": crop_settings(crops),  # how new clips must be cropped (experiments.predict)
        "clip_frames": int(np.median([load_crops(path).shape[0] for path in dataset_paths])),
    }
    return cross_validate(dataset, settings, out, folds=folds, config=config, overwrite=overwrite)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.train_image", description=__doc__,
                                     epilog=presets_text(PRESETS), formatter_class=argparse.RawDescriptionHelpFormatter)
    setting = setting_adder(GROUPS, DEFAULT_IMAGE_MODEL)
    data = parser.add_argument_group("data")
    data.add_argument("--crops", required=True, help="folder of face crops (output of landmarks.crops)")
    add_label_options(data, setting, "crops")
    setting(data, "--length", "frames per clip, evenly spaced (1 for still images)", type=int)
    setting(data, "--size", "input side in pixels (48, 112, 224 ...)", type=int)
    setting(data, "--grey", "greyscale input (yes/no)", type=flag)
    setting(data, "--relative", "frozen backbone: frame features minus the clip's mean or first frame's (the "
            "person's look removed, its change kept)", choices=RELATIVE_TO)
    model = parser.add_argument_group("model (--backbone, --variant, --head, --head-sizes and --dropout are options "
                                      "of the model; a model that does not take one refuses it)")
    image_models = models.available_models("frames")
    setting(model, "--model", "; ".join(f"{name}: {text}" for name, text in image_models.items()),
            choices=list(image_models), metavar="NAME")
    model.add_argument("--backbone", help="timm model name (timm.list_models()), or torchvision/<name>; "
                                          "convnext-lstm: convnext_atto ... convnext_xlarge (default convnext_atto)")
    model.add_argument("--variant", choices=("large", "small"), help="mobilenetv3-lstm: MobileNetV3 large (default) "
                                                                     "or small")
    model.add_argument("--head", choices=models.available_heads(), help="sequence head (default lstm)")
    model.add_argument("--head-sizes", type=int, nargs="+", metavar="UNITS", help="LSTM widths of the head")
    model.add_argument("--dropout", type=float, help="dropout of the head (default 0.25)")
    model.add_argument("--projection", type=int, metavar="WIDTH",
                       help="a learned linear layer to WIDTH between the frame features and the head; 0: none "
                            "(default 64)")
    transfer = parser.add_argument_group("backbone and transfer")
    setting(transfer, "--pretrained", "initial backbone weights: ImageNet from this machine's caches, or none",
            choices=PRETRAINED)
    setting(transfer, "--weights", "a local weights file for the backbone (.pth, .bin, .safetensors)")
    setting(transfer, "--finetune", "train the backbone too, in two stages (yes/no); no: frozen backbone, cached "
            "features", type=flag)
    setting(transfer, "--frozen-epochs", "with --finetune: epochs of stage one, backbone frozen", type=int)
    setting(transfer, "--finetune-lr", "with --finetune: learning rate of stage two", type=float)
    setting(transfer, "--device", "where the backbone runs (cpu, cuda ...)")
    setting(transfer, "--feature-cache", "folder of cached backbone features; none: CROPS_DIR/feature_cache")
    setting(transfer, "--feature-batch", "frames per backbone batch in the feature pass", type=int)
    setting(transfer, "--feature-dims", "frozen backbone: principal components of the frame features kept, fitted "
            "inside each fold; 0: all", type=int)
    protocol = parser.add_argument_group("protocol")
    protocol.add_argument("--preset", choices=list(PRESETS), help="the papers' settings, see below")
    add_protocol_options(protocol, setting)
    training = parser.add_argument_group("training")
    add_training_options(training, setting, "with --finetune: rotation 20 deg, shift 15%%, zoom 20%%, shear 5 deg, "
                         "flip, one draw per clip", checkpoints=False)
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run an --out folder already holds (its run files only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k not in NOT_SETTINGS}
    return run_training(lambda: train_image(args.crops, args.out, args.labels, args.preset, args.folds_file,
                                            args.overwrite, **options), args.out)


if __name__ == "__main__":
    sys.exit(main())
