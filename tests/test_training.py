"""Fitting one network: the mini-batches a training part gives, and what fit does with any batch source."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from experiments.training import ArrayBatches, FitSettings, fit


def test_array_batches_cover_each_clip_once_per_epoch_reshuffled_and_reproducible():
    X = np.arange(21, dtype=np.float32)[:, None]
    batches = ArrayBatches(X, np.zeros(21), batch_size=10, seed=4, to_tensor=torch.as_tensor)
    epochs = [[x[:, 0].int().tolist() for x, _ in batches] for _ in range(3)]
    for epoch in epochs:
        assert [len(batch) for batch in epoch] == [10, 10]  # the last batch of a single clip is left out
        seen = sum(epoch, [])
        assert len(set(seen)) == 20 and set(seen) <= set(range(21))
    assert epochs[0] != epochs[1]
    again = ArrayBatches(X, np.zeros(21), batch_size=10, seed=4, to_tensor=torch.as_tensor)
    assert [[x[:, 0].int().tolist() for x, _ in again] for _ in range(3)] == epochs


def test_array_batches_transform_every_epoch_then_prepare():
    X = np.zeros((4, 1), dtype=np.float32)
    batches = ArrayBatches(X, np.zeros(4), batch_size=4, seed=0, to_tensor=torch.as_tensor,
                           prepare=lambda values: values * 10, transform=lambda clip, rng: clip + rng.random())
    first, second = (next(iter(batches))[0] for _ in range(2))
    assert not torch.equal(first, second) and (first >= 0).all() and (first <= 10).all() and first.std() > 0


class CountingSource:
    """Hands fit a fixed number of batches per epoch and counts the epochs it was asked for."""

    def __init__(self, batches: int) -> None:
        self.batches, self.epochs = batches, 0
        self.X, self.y = torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1] * 3)

    def __iter__(self):
        self.epochs += 1
        for _ in range(self.batches):
            yield self.X, self.y


def test_fit_takes_the_batches_it_is_given_and_keeps_the_best_validation_epoch():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    source = CountingSource(batches=3)
    history = fit(model, source, (source.X, source.y), nn.CrossEntropyLoss(), FitSettings(epochs=5, lr=0.05),
                  progress_bar=False)
    assert source.epochs == 5 and history.optimiser_steps == 15
    assert history.best_epoch == int(np.argmin(history.val_loss))
    best = nn.CrossEntropyLoss()(model.eval()(source.X), source.y).item()
    assert best == min(history.val_loss)  # the model holds its best epoch's weights, not its last


def test_fit_stops_early_after_patience_epochs_without_progress():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    source = CountingSource(batches=1)
    wrong = torch.tensor([1, 0] * 3)  # validation labels the fit data contradicts: its loss only rises
    history = fit(model, source, (source.X, wrong), nn.CrossEntropyLoss(), FitSettings(epochs=50, lr=0.1, patience=3),
                  progress_bar=False)
    assert len(history.train_loss) == history.best_epoch + 4 < 50 and source.epochs == len(history.train_loss)


def test_weight_decay_pulls_the_fitted_weights_towards_zero():
    def fitted(weight_decay: float) -> torch.Tensor:
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        source = CountingSource(batches=2)
        settings = FitSettings(epochs=20, lr=0.05, weight_decay=weight_decay)
        fit(model, source, (source.X, source.y), nn.CrossEntropyLoss(), settings, progress_bar=False)
        return model.weight.detach().clone()

    plain, decayed = fitted(0.0), fitted(1.0)
    assert decayed.norm() < 0.9 * plain.norm()
    assert torch.equal(fitted(0.0), plain)  # and no decay is the same fit every time


def test_clip_norm_caps_the_gradient_of_every_step():
    def largest_gradient(clip_norm: float) -> float:
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        source = CountingSource(batches=2)
        source.X = source.X * 100  # inputs that make large gradients
        norms = []

        def record(optimiser, args, kwargs):
            grads = [p.grad for group in optimiser.param_groups for p in group["params"] if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

        handle = register_optimizer_step_pre_hook(record)
        try:
            fit(model, source, (source.X, source.y), nn.CrossEntropyLoss(),
                FitSettings(epochs=3, lr=0.05, clip_norm=clip_norm), progress_bar=False)
        finally:
            handle.remove()
        assert len(norms) == 6
        return max(norms)

    assert largest_gradient(0.0) > 5.0  # unclipped, these steps' gradients are large
    assert largest_gradient(0.5) <= 0.5 + 1e-5


def test_fit_keeps_the_weights_of_the_epochs_of_lowest_validation_loss_on_request():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    source = CountingSource(batches=1)
    history = fit(model, source, (source.X, source.y), nn.CrossEntropyLoss(),
                  FitSettings(epochs=8, lr=0.05, checkpoints=3), progress_bar=False)
    assert history.checkpoint_epochs == sorted(range(8), key=lambda epoch: history.val_loss[epoch])[:3]
    assert history.checkpoint_epochs[0] == history.best_epoch
    for epoch, weights in zip(history.checkpoint_epochs, history.checkpoints, strict=True):
        model.load_state_dict(weights)
        loss = nn.CrossEntropyLoss()(model.eval()(source.X), source.y).item()
        assert loss == pytest.approx(history.val_loss[epoch], rel=1e-6)  # each epoch's own weights
    alone = fit(nn.Linear(3, 2), CountingSource(batches=1), (source.X, source.y), nn.CrossEntropyLoss(),
                FitSettings(epochs=8, lr=0.05), progress_bar=False)
    assert alone.checkpoints == [] and alone.checkpoint_epochs == []  # by default only the best epoch is kept
