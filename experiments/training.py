"""Fitting one model on one training part: mini-batches, Adam with exponential learning-rate decay,
on-the-fly augmentation, and model selection on a validation part (best validation loss, with optional
early stopping)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass
class FitSettings:
    epochs: int = 150
    batch_size: int = 10
    lr: float = 1e-4
    decay_rate: float = 0.96  # learning rate multiplied by this every ``decay_steps`` optimiser steps
    decay_steps: int = 1000
    patience: int = 0  # stop after this many epochs without a better validation loss; 0 = run every epoch


@dataclass
class FitHistory:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0
    optimiser_steps: int = 0


def to_model_layout(X: np.ndarray) -> torch.Tensor:
    """(N, T, V, C) arrays, as data sets hold them, to the models' (N, C, T, V) tensors."""
    return torch.as_tensor(np.ascontiguousarray(np.transpose(X, (0, 3, 1, 2))), dtype=torch.float32)


@torch.no_grad()
def _logits(model: nn.Module, X: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Logits (N, classes) in evaluation mode, computed in batches."""
    model.eval()
    return torch.cat([model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])


def predict_proba(model: nn.Module, X: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, classes) in evaluation mode."""
    return torch.softmax(_logits(model, X, batch_size), dim=1).numpy()


@torch.no_grad()
def _evaluate(model: nn.Module, loss_fn: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logits = _logits(model, X)
    return float(loss_fn(logits, y)), float((logits.argmax(1) == y).float().mean())


def fit(
    model: nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    loss_fn: nn.Module,
    settings: FitSettings,
    seed: int,
    transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    description: str = "epochs",
    on_epoch: Callable[[int], None] | None = None,
    progress_bar: bool = True,
) -> FitHistory:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    ``train`` and ``validation`` are (X, y) with X (N, T, V, C). ``transform`` (augmentation) is applied to
    the training clips afresh every epoch; ``prepare`` (standardisation fit on the training part) to every
    array before it enters the model. ``on_epoch`` is called with the number of each finished epoch (progress
    reporting from worker processes, which draw no bar of their own: ``progress_bar=False``).
    """
    prepare = prepare or (lambda X: X)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    X_train, y_train = train
    y_train_t = torch.as_tensor(y_train, dtype=torch.long)
    X_val = to_model_layout(prepare(validation[0]))
    y_val = torch.as_tensor(validation[1], dtype=torch.long)
    fixed_train = None if transform is not None else to_model_layout(prepare(X_train))
    # The fused kernel updates every parameter in one call: the same Adam, about 15% less time per step here.
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr, fused=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: settings.decay_rate ** (step / settings.decay_steps)
    )
    history, best_state, best_loss, stale = FitHistory(), None, float("inf"), 0
    bar = tqdm(range(settings.epochs), desc=description, leave=False, unit="epoch", disable=not progress_bar)
    for epoch in bar:
        if fixed_train is None:
            X_epoch = to_model_layout(prepare(np.stack([transform(clip, rng) for clip in X_train])))
        else:
            X_epoch = fixed_train
        model.train()
        order = torch.randperm(len(X_epoch), generator=generator)
        total = 0.0
        for first in range(0, len(order), settings.batch_size):
            batch = order[first : first + settings.batch_size]
            if len(batch) < 2 and len(order) > 1:  # batch norm cannot learn from a single clip
                continue
            optimiser.zero_grad()
            loss = loss_fn(model(X_epoch[batch]), y_train_t[batch])
            loss.backward()
            optimiser.step()
            schedule.step()
            history.optimiser_steps += 1
            total += loss.item() * len(batch)
        val_loss, val_accuracy = _evaluate(model, loss_fn, X_val, y_val)
        history.train_loss.append(total / len(order))
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}", val=f"{val_loss:.3f}", acc=f"{val_accuracy:.2f}")
        if on_epoch is not None:
            on_epoch(epoch + 1)
        if val_loss < best_loss:
            best_loss, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
            history.best_epoch = epoch
        else:
            stale += 1
            if settings.patience and stale >= settings.patience:
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
