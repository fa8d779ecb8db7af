"""The options every training command shares (``train_graph``, ``train_image``): the protocol and training
settings, yes/no flags, help texts that show each setting's own default, and the presets' listing."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable

from landmarks.commands import run_command
from landmarks.dataset.labels import PRESETS as LABEL_PRESETS

from .losses import LOSSES, WEIGHT_SCHEMES
from .reports import results_table
from .resampling import METHODS
from .settings import setting_default


def flag(value: str) -> bool:
    """A yes/no option value."""
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {value!r}")


Setting = Callable[..., None]


def setting_adder(groups: dict[str, type] | None = None, default_model: str | None = None) -> Setting:
    """``setting(group, "--flag", text, **kwargs)``: an option that sets the flat setting of the same name,
    its help ending with that setting's default (so no help restates a default by hand)."""

    def default_text(name: str) -> str:
        options = {} if default_model is None else {"default_model": default_model}
        value = setting_default(name, groups, **options)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        return f" (default {'none' if value is None else value})"

    def setting(group, option: str, text: str, **kwargs) -> None:
        group.add_argument(option, help=text + default_text(option[2:].replace("-", "_")), **kwargs)

    return setting


def add_label_options(group, setting: Setting, what: str = "clips") -> None:
    """Where labels and subjects come from: a labels file, or path components through a label map."""
    group.add_argument("--labels", help="CSV with clip,label[,subject]; default: labels from a path component")
    group.add_argument("--ignore-unlabelled", action="store_true", default=None,
                       help=f"with --labels: use the listed {what} only (default: refuse unlabelled {what})")
    setting(group, "--label-map", f"map path components to classes: stimulus, {', '.join(LABEL_PRESETS)}")
    setting(group, "--label-component", "path component holding the label", type=int)
    setting(group, "--subject-component", "path component holding the subject; -1: each clip its own (stills)",
            type=int)


def run_training(train: Callable[[], dict], out: str) -> int:
    """Run a training command's work, print its results table and where they are; the exit code."""

    def run() -> int:
        print(results_table(train()))
        print(f"results in {out}")
        return 0

    return run_command(run)


def add_protocol_options(group, setting: Setting, losses: bool = True) -> None:
    setting(group, "--folds", "subject-grouped folds", type=int)
    group.add_argument("--folds-file", help="reuse the split of an earlier run's folds.csv (graph or image run: "
                                            "both branches then see exactly the same split)")
    setting(group, "--validation-share", "share of training subjects held out to choose the epoch (graph runs "
            "and baselines: 0 holds none out, every training subject trains and the epoch that fits its own "
            "clips best is kept; learned fusion rules and --tune then have nothing to learn from)", type=float)
    setting(group, "--resample", "oversampling of training parts", choices=METHODS)
    setting(group, "--class-weights", "weights per class (of the loss, or of the classifier)", choices=WEIGHT_SCHEMES)
    if not losses:
        return
    setting(group, "--loss", "cross-entropy or focal loss", choices=LOSSES)
    setting(group, "--focal-alpha", "focal loss alpha", type=float)
    setting(group, "--focal-gamma", "focal loss gamma", type=float)


def add_training_options(group, setting: Setting, augment_text: str, checkpoints: bool = True) -> None:
    """The optimiser and execution options; ``checkpoints=False`` for branches whose folds keep their best
    epoch alone (image runs)."""
    setting(group, "--epochs", "epochs per fold", type=int)
    setting(group, "--batch-size", "clips per optimiser step", type=int)
    setting(group, "--lr", "initial learning rate of Adam", type=float)
    setting(group, "--decay-rate", "learning rate x this every --decay-steps steps", type=float)
    setting(group, "--decay-steps", "optimiser steps per learning-rate decay", type=int)
    setting(group, "--weight-decay", "decoupled weight decay (AdamW) per unit of learning rate; 0 = plain Adam",
            type=float)
    setting(group, "--clip-norm", "gradients rescaled to at most this total norm before each step; 0 = not clipped",
            type=float)
    if checkpoints:
        setting(group, "--checkpoints", "a fold's model averages the class probabilities of the N epochs of lowest "
                "validation loss (a checkpoint ensemble); 1 = the best epoch alone", type=int)
    setting(group, "--patience", "early stopping after N epochs without progress; 0 = off", type=int)
    setting(group, "--augment", augment_text + " (yes/no)", type=flag)
    setting(group, "--seed", "same seed, same --jobs, same machine: same metrics.json", type=int)
    setting(group, "--jobs", "folds trained at once in worker processes sharing the cores", type=int)
    add_scheduler_option(group, setting)


def add_scheduler_option(group, setting: Setting) -> None:
    setting(group, "--scheduler", "a Dask scheduler's address (tcp://host:8786): the folds train on its workers, "
            "which need this package and the same paths", metavar="ADDRESS")


def presets_text(presets: dict[str, dict]) -> str:
    """The presets' values, from the presets themselves."""
    lines = ["presets (explicit options override them):"]
    for name, values in presets.items():
        text = ", ".join(f"{key}={value}" for key, value in values.items())
        lines.append(textwrap.fill(text, 100, initial_indent=f"  {name}: ", subsequent_indent=" " * 4))
    return "\n".join(lines)
