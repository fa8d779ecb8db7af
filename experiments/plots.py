"""Figures of a run: the summed out-of-fold confusion matrix and the loss curves of every fold.

Drawn straight to files with matplotlib's Figure, without pyplot: no backend is chosen or changed, and no
display is needed.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure


def plot_confusion(confusion: np.ndarray, classes: list[str], path: str | os.PathLike, title: str = "") -> None:
    """Counts and row-normalised shares (recall per true class) of a confusion matrix."""
    confusion = np.asarray(confusion)
    shares = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.9 * len(classes)
    figure = Figure(figsize=(size + 1, size))
    axis = figure.subplots()
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            colour = "white" if shares[i, j] > 0.6 else "black"
            axis.text(j, i, f"{confusion[i, j]}\n{100 * shares[i, j]:.0f}%", ha="center", va="center", color=colour)
    axis.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title or "out-of-fold confusion")
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of true class")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_curves(histories: list[dict], path: str | os.PathLike) -> None:
    """Training and validation loss per epoch for every fold, the selected epoch marked."""
    figure = Figure(figsize=(7, 4.5))
    axis = figure.subplots()
    colours = colormaps["tab10"].colors
    for fold, history in enumerate(histories):
        if not history["train_loss"]:  # a pipeline trained without epochs (a linear baseline) has no curve
            continue
        colour = colours[fold % len(colours)]
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        axis.plot(epochs, history["train_loss"], color=colour, label=f"fold {fold} train")
        axis.plot(epochs, history["val_loss"], color=colour, linestyle="--", label=f"fold {fold} validation")
        best = history["best_epoch"]
        axis.plot(best + 1, history["val_loss"][best], "o", color=colour)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title("loss per fold (dots: selected epoch)")
    if axis.lines:
        axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_timeline(windows, columns: list[str], times: np.ndarray, success: np.ndarray, path: str | os.PathLike,
                  title: str = "") -> None:
    """Class (or group) probabilities of a clip's windows over time, each at its window's middle, with the
    frames where no face was found shaded; unscored windows leave gaps."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure = Figure(figsize=(9, 3.2))
    axis = figure.subplots()
    middle = (windows["start_s"].to_numpy(float) + windows["end_s"].to_numpy(float)) / 2
    for column in columns:
        axis.plot(middle, windows[column].to_numpy(float), marker="o", markersize=3, label=column.split("_", 1)[1])
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    for t in np.flatnonzero(~np.asarray(success, bool)):
        axis.axvspan(times[t] - step / 2, times[t] + step / 2, color="0.85", linewidth=0)
    axis.set_ylim(0, 1)
    axis.set_xlabel("time (s)")
    axis.set_ylabel("probability")
    axis.set_title(f"{title} (grey: no face found)" if (~np.asarray(success, bool)).any() else title)
    axis.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
