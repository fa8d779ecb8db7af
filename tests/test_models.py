"""The graph models and sequence heads: shapes, gradients, graph-convolution invariants, learning, export."""

from __future__ import annotations

import os
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import torch

import graphs
import models
from models.graph_conv import SpatialGraphConv

from .conftest import REPO

MODEL_NAMES = list(models.available_models("landmarks"))
HEAD_NAMES = models.available_heads()
# The original's ten 256-channel blocks are the ``stgcn`` class with another layout; memorising with them takes
# minutes on two cores, so the learning check runs on every model class at its default size.
TRAINABLE_HERE = [name for name in MODEL_NAMES if name != "stgcn-yan2018"]


def clips(n: int = 4, channels: int = 2, frames: int = 20, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, channels, frames, graphs.N_POINTS, generator=generator)


def partitions() -> np.ndarray:
    return graphs.spatial_partitions(graphs.facial_graph("anatomical"), normalization="column")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_maps_clips_to_logits(name):
    torch.manual_seed(0)
    model = models.create(name, num_classes=3)
    assert model(clips(5)).shape == (5, 3)


def test_models_take_velocity_channels_and_any_graph():
    torch.manual_seed(0)
    model = models.create("stgcn-lstm", num_classes=2, in_channels=4, graph="delaunay", head="bilstm")
    assert model(clips(2, channels=4)).shape == (2, 2)
    custom = models.create("stgcn", num_classes=2, graph=graphs.facial_graph("anatomical"))
    assert custom(clips(2)).shape == (2, 2)


@pytest.mark.parametrize("head", HEAD_NAMES)
def test_every_head_maps_sequences_to_logits(head):
    torch.manual_seed(0)
    module = models.create_head(head, in_features=12, num_classes=4)
    features = torch.randn(3, 20, 12)
    assert module(features).shape == (3, 4)
    model = models.create("stgcn-lstm", num_classes=4, head=head)
    assert model(clips(3)).shape == (3, 4)


def test_attention_head_weights_are_a_distribution_over_frames():
    torch.manual_seed(0)
    head = models.AttentionLSTMHead(12, 2)
    _, weights = head.attention(torch.randn(3, 20, 12))
    assert weights.shape == (3, 20)
    assert torch.allclose(weights.sum(dim=1), torch.ones(3))
    assert weights.std(dim=1).min() > 0


def test_stacked_head_uses_one_lstm_per_width():
    head = models.create_head("stacked", 30, 2, hidden_sizes=(15, 20))
    assert [layer.hidden_size for layer in head.layers] == [15, 20]
    assert head.classifier.in_features == 20


def test_stgcn_lstm_hands_the_head_either_the_landmark_mean_or_every_landmark():
    torch.manual_seed(0)
    mean = models.create("stgcn-lstm", num_classes=3).eval()
    flat = models.create("stgcn-lstm", num_classes=3, pooling="flatten").eval()
    assert mean.head.lstm.input_size == 16 and flat.head.lstm.input_size == 16 * 68
    x = clips(2)
    with torch.no_grad():
        features = flat.backbone(x)  # (N, C, T, V)
        swapped = features[..., [1, 0, *range(2, 68)]]  # two landmarks' features exchanged

        def per_landmark(f: torch.Tensor) -> torch.Tensor:
            return f.permute(0, 2, 3, 1).reshape(2, 20, -1)

        assert torch.allclose(flat(x), flat.head(per_landmark(features)))
        # which landmark moved reaches the flattened head (a mean over landmarks would forget it)
        assert not torch.allclose(flat.head(per_landmark(features)), flat.head(per_landmark(swapped)))
        assert torch.allclose(mean(x), mean.head(mean.backbone(x).mean(3).transpose(1, 2)))
    with pytest.raises(ValueError, match="pooling must be one of mean, flatten, got 'max'"):
        models.create("stgcn-lstm", num_classes=3, pooling="max")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(0)
    model = models.create(name, num_classes=3)
    logits = model(clips(6))
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not dead, f"parameters without gradient: {dead}"


@pytest.mark.parametrize("head", HEAD_NAMES)
def test_gradients_reach_every_head_parameter(head):
    torch.manual_seed(0)
    module = models.create_head(head, 12, 3)
    torch.nn.functional.cross_entropy(module(torch.randn(6, 20, 12)), torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    dead = [n for n, p in module.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not dead, f"parameters without gradient: {dead}"


def test_stgcn_uses_column_normalised_partitions_around_the_nose_tip():
    model = models.create("stgcn", num_classes=2)
    layer = model.backbone.blocks[0].gcn
    # the default graph is the published reference graph (models.stgcn.DEFAULT_GRAPH)
    expected = graphs.spatial_partitions(graphs.facial_graph("reference"), center=30, normalization="column")
    assert torch.allclose(layer.adjacency, torch.as_tensor(expected, dtype=torch.float32))
    # Yan et al.'s A D^-1: every column of the summed partitions adds to 1.
    assert torch.allclose(layer.adjacency.sum(dim=(0, 1)), torch.ones(68))


@pytest.mark.parametrize("implementation", models.IMPLEMENTATIONS)
def test_spatial_graph_conv_is_node_permutation_equivariant(implementation):
    torch.manual_seed(0)
    adjacency = torch.as_tensor(partitions(), dtype=torch.float32)
    layer = SpatialGraphConv(5, 7, adjacency, implementation=implementation)
    with torch.no_grad():
        layer.importance.uniform_(0.5, 1.5)
    permutation = torch.randperm(68, generator=torch.Generator().manual_seed(1))
    permuted = SpatialGraphConv(5, 7, adjacency[:, permutation][:, :, permutation], implementation=implementation)
    with torch.no_grad():
        permuted.conv.load_state_dict(layer.conv.state_dict())
        permuted.importance.copy_(layer.importance[:, permutation][:, :, permutation])
    x = clips(3, channels=5)
    expected = layer(x)[..., permutation]
    assert torch.allclose(permuted(x[..., permutation]), expected, atol=1e-5)
    # A permutation of the input alone (graph kept) must change the result: the test can fail.
    assert not torch.allclose(layer(x[..., permutation]), expected, atol=1e-3)


def test_spatial_graph_conv_sums_neighbours_per_partition():
    """Checked against the definition: out_i = sum_k W_k sum_j A[k,i,j] x_j + b, written as plain loops."""
    torch.manual_seed(0)
    adjacency = torch.as_tensor(partitions(), dtype=torch.float32)
    layer = SpatialGraphConv(3, 4, adjacency)
    with torch.no_grad():
        layer.importance.uniform_(0.5, 1.5)
    x = clips(2, channels=3, frames=5)
    weighted = layer.weighted_adjacency()
    weight = layer.conv.weight[:, :, 0, 0].view(4, 3, 3)  # (out, partition, in)
    expected = torch.zeros(2, 4, 5, 68)
    for k in range(3):
        gathered = torch.einsum("ij,nctj->ncti", weighted[k], x)
        expected += torch.einsum("oc,ncti->noti", weight[:, k], gathered)
    expected += layer.conv.bias.view(1, 4, 1, 1)
    assert torch.allclose(layer(x), expected, atol=1e-5)


@pytest.mark.parametrize("name", ["stgcn", "stgcn-lstm"])
def test_dense_and_torch_geometric_convolutions_agree(name):
    torch.manual_seed(0)
    model = models.create(name, num_classes=3, implementation="dense").eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, SpatialGraphConv):
                module.importance.uniform_(0.5, 1.5)
    x = clips(4)
    dense = model(x)
    model.backbone.set_implementation("pyg")
    assert all(m.implementation == "pyg" for m in model.modules() if isinstance(m, SpatialGraphConv))
    assert torch.allclose(model(x), dense, atol=1e-5)


def test_bad_implementation_and_shapes_are_named():
    with pytest.raises(ValueError, match="'sparse'.*dense or pyg"):
        models.create("stgcn", num_classes=2, implementation="sparse")
    model = models.create("stgcn", num_classes=2)
    with pytest.raises(ValueError, match=r"V=68\), got \(2, 2, 20, 51\)"):
        model(torch.randn(2, 2, 20, 51))


def test_create_names_what_is_wrong():
    with pytest.raises(ValueError, match="unknown model 'gcn'.*stgcn-lstm"):
        models.create("gcn", num_classes=2)
    with pytest.raises(TypeError, match="stgcn-lstm.*hiden"):
        models.create("stgcn-lstm", num_classes=2, hiden=3)
    with pytest.raises(ValueError, match="num_classes"):
        models.create("stgcn", num_classes=1)
    with pytest.raises(ValueError, match="unknown sequence head 'gru'"):
        models.create("stgcn-lstm", num_classes=2, head="gru")
    with pytest.raises(ValueError, match="unknown graph"):
        models.create("stgcn", num_classes=2, graph="complete")
    # one number is one block (as --set channels=32 writes it); widths and strides that cannot be are named
    assert [block.tcn[0].out_channels for block in models.create("stgcn-lstm", 2, channels=32).backbone.blocks] == [32]
    with pytest.raises(ValueError, match=r"strides \(1, 1, 1\) and channels \(32,\) must have the same length"):
        models.create("stgcn", num_classes=2, channels=32)
    with pytest.raises(ValueError, match="must be positive, got \\(16, 0\\)"):
        models.create("stgcn-lstm", num_classes=2, channels=(16, 0))
    with pytest.raises(ValueError, match=r"strides \(\) and channels \(16, 16, 32\) must have the same length"):
        models.create("stgcn", num_classes=2, strides=())


def test_stgcn_classifier_knows_when_in_the_clip_a_movement_happens():
    torch.manual_seed(0)
    # the default keeps every frame; with strides 1, 2, 2 (the earlier default) 5 of 20 frames are left, one
    # per stretch, which lets this test swap stretches in the backbone's output
    assert models.create("stgcn", num_classes=2).backbone(clips(2)).shape[2] == 20
    binned = models.create("stgcn", num_classes=2, strides=(1, 2, 2)).eval()
    whole = models.create("stgcn", num_classes=2, strides=(1, 2, 2), time_bins=1).eval()
    width = binned.backbone.out_channels  # the last block's channels (32 by default)
    assert width == 32 and binned.classifier.in_features == width * 5 and whole.classifier.in_features == width
    x = clips(2)
    with torch.no_grad():
        features = binned.backbone(x)  # (N, C, 5, V)
        early_late_swapped = features[:, :, [4, 1, 2, 3, 0]]
        assert torch.allclose(binned(x), binned.classifier(features.mean(3).flatten(1)))
        # the first and last stretch exchanged: an early apex made late reaches the binned classifier ...
        assert not torch.allclose(binned.classifier(features.mean(3).flatten(1)),
                                  binned.classifier(early_late_swapped.mean(3).flatten(1)))
        # ... and one average over the clip, the original's pooling, forgets when it happened
        whole_features = whole.backbone(x)
        assert torch.allclose(whole(x), whole.classifier(whole_features.mean((2, 3))), atol=1e-6)
        assert torch.allclose(whole.classifier(whole_features[:, :, [4, 1, 2, 3, 0]].mean((2, 3))), whole(x),
                              atol=1e-6)
        # a clip of another length is averaged into the same five stretches
        assert binned(clips(2, frames=40)).shape == (2, 2)
    with pytest.raises(ValueError, match="time_bins must be 1 .* or more, got 0"):
        models.create("stgcn", num_classes=2, time_bins=0)


def test_yan2018_preset_has_the_original_layout():
    model = models.create("stgcn-yan2018", num_classes=2)
    widths = [block.tcn[0].out_channels for block in model.backbone.blocks]
    strides = [block.tcn[0].stride[0] for block in model.backbone.blocks]
    assert widths == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert strides == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert [block.tcn[0].kernel_size[0] for block in model.backbone.blocks] == [9] * 10
    assert model.classifier.in_features == 256  # one average over the clip, as the original


def test_reference_attention_varies_between_neighbours_and_trains_its_recurrent_layer():
    torch.manual_seed(0)
    model = models.create("stgcn-ref", num_classes=2)
    block = model.blocks[0]
    widened = torch.cat([clips(2), torch.relu(block.entry(clips(2)))], dim=1)
    attention = block.attention
    alpha = attention.coefficients(widened)  # (N, T, hops, V, V)
    mask = attention.masks  # (hops, V, V): 1-hop and 2-hop neighbourhoods
    assert alpha.shape == (2, 20, 2, 68, 68)
    assert torch.allclose(alpha.sum(-1), torch.ones(alpha.shape[:4]), atol=1e-5)
    assert bool((alpha[..., ~mask] == 0).all())
    # The published block's coefficients are 1/degree for every neighbour; ours must differ from that.
    degree = mask.sum(-1, keepdim=True).float()
    uniform = mask.float() / degree
    spread = (alpha - uniform).abs()[..., mask].max()
    assert spread > 0.01
    # at every frame, every landmark weighs its neighbours differently, in both hops
    highest = alpha.masked_fill(~mask, -1.0).max(-1).values
    lowest = alpha.masked_fill(~mask, 2.0).min(-1).values
    assert bool((highest - lowest > 1e-4).all())
    # the sparse mixing computes exactly sum_j alpha_ij * projected_j, and it is no plain neighbourhood mean
    projected = attention.project(widened).reshape(2, 2, -1, 20, 68)  # (N, hops, C, T, V)
    expected = torch.einsum("nthij,nhctj->nhcti", alpha, projected).reshape(2, -1, 20, 68)
    assert torch.allclose(attention(widened), expected, atol=1e-5)
    mean = torch.einsum("hij,nhctj->nhcti", uniform, projected).reshape(2, -1, 20, 68)
    assert not torch.allclose(attention(widened), mean, atol=1e-4)
    # and the recurrent layer that scores the neighbours learns
    torch.nn.functional.cross_entropy(model(clips(4)), torch.tensor([0, 1, 0, 1])).backward()
    for parameter in attention.recurrent.parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0


def test_reference_temporal_kernels_are_separate_convolutions_run_as_one():
    torch.manual_seed(0)
    temporal = models.create("stgcn-ref", num_classes=2).blocks[1].temporal
    x = torch.randn(2, temporal.conv.in_channels, 20, 68)
    out = temporal(x)
    assert out.shape == (2, 24, 20, 68)
    weight = temporal.conv.weight * temporal.window
    centre = (max(temporal.kernels) - 1) // 2
    for group, kernel in enumerate(temporal.kernels):  # each group: a plain convolution of its own length
        rows = slice(8 * group, 8 * group + 8)
        taps = weight[rows, :, centre - (kernel - 1) // 2 : centre + kernel // 2 + 1]
        assert bool((weight[rows].abs().sum((1, 3)) > 0).sum(-1).eq(kernel).all())  # no weight outside its window
        padded = torch.nn.functional.pad(x, (0, 0, (kernel - 1) // 2, kernel // 2))
        single = torch.nn.functional.conv2d(padded, taps, temporal.conv.bias[rows])
        assert torch.allclose(out[:, rows], single, atol=1e-5)


def test_reference_model_follows_the_paper_layout():
    model = models.create("stgcn-ref", num_classes=2)
    assert len(model.blocks) == 3
    assert model.blocks[0].temporal.kernels == (9, 15, 20)
    hop_sizes = [int(mask.sum()) for mask in model.blocks[0].attention.masks]
    graph = graphs.facial_graph("reference")  # the published graph, as the paper ran it
    assert hop_sizes[0] == 2 * graph.number_of_edges() + 68
    assert hop_sizes[1] > hop_sizes[0]
    assert [layer.hidden_size for layer in model.head.layers] == [15, 20]
    assert model.head.dropout.p == 0.25
    assert nx.is_connected(graph)


@pytest.mark.parametrize("name", TRAINABLE_HERE)
def test_every_model_overfits_a_small_fixed_batch(name):
    torch.manual_seed(0)
    x = clips(12, seed=3)
    y = torch.tensor([0, 1, 2] * 4)
    model = models.create(name, num_classes=3)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(100):  # enough steps for batch-norm running statistics to settle on the batch too
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
    model.train(False)
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy == 1.0, f"{name} reached {accuracy:.2f} on 12 memorised clips (loss {loss.item():.3f})"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_exports_with_torch_export(name):
    torch.manual_seed(0)
    model = models.create(name, num_classes=3).eval()
    example = clips(2)
    program = torch.export.export(model, (example,))
    fresh = clips(2, seed=7)
    with torch.no_grad():
        assert torch.allclose(program.module()(fresh), model(fresh), atol=1e-5)


def test_torch_geometric_model_exports_too():
    torch.manual_seed(0)
    model = models.create("stgcn-lstm", num_classes=2, implementation="pyg").eval()
    program = torch.export.export(model, (clips(2),))
    with torch.no_grad():
        assert torch.allclose(program.module()(clips(2, seed=5)), model(clips(2, seed=5)), atol=1e-5)


def _run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter from the repository root, matplotlib told to use the svg backend."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "MPLBACKEND": "svg"})


def test_importing_the_package_loads_no_torch_geometric_or_pyplot_and_keeps_the_matplotlib_backend(tmp_path):
    # torch-geometric costs seconds per process (every command, every fold worker); a notebook's backend must
    # survive ``import graphs`` or its inline figures vanish
    code = (
        "import sys, graphs, models, experiments.cross_validation, landmarks, matplotlib\n"
        "import experiments.plots as plots\n"
        "model = models.create('stgcn-lstm', 2)\n"
        f"graphs.plot(graphs.facial_graph(), path={str(tmp_path / 'g.png')!r})\n"
        f"plots.plot_confusion([[3, 1], [0, 4]], ['a', 'b'], {str(tmp_path / 'c.png')!r})\n"
        "print(sorted(m for m in ('torch_geometric', 'matplotlib.pyplot') if m in sys.modules))\n"
        "print(matplotlib.get_backend())\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "svg"]
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_a_saved_torch_geometric_model_loads_in_a_fresh_process(tmp_path):
    torch.manual_seed(0)
    model = models.create("stgcn-lstm", num_classes=2, implementation="pyg").eval()
    torch.save(model, tmp_path / "model.pt")
    torch.save(clips(2), tmp_path / "x.pt")
    with torch.no_grad():
        torch.save(model(clips(2)), tmp_path / "expected.pt")
    code = (
        "import torch\n"
        f"model = torch.load({str(tmp_path / 'model.pt')!r}, weights_only=False)\n"
        f"x, expected = torch.load({str(tmp_path / 'x.pt')!r}), torch.load({str(tmp_path / 'expected.pt')!r})\n"
        "with torch.no_grad():\n"
        "    print(torch.allclose(model(x), expected, atol=1e-6))\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_stgcn_ref_runs_on_the_published_graph_unless_told_otherwise():
    reference = graphs.adjacency(graphs.facial_graph("reference"), self_loops=True) > 0
    model = models.create("stgcn-ref", num_classes=2)
    assert torch.equal(model.blocks[0].attention.masks[0], torch.as_tensor(reference))
    anatomical = models.create("stgcn-ref", num_classes=2, graph="anatomical")
    assert anatomical.blocks[0].attention.masks[0].sum() < model.blocks[0].attention.masks[0].sum()
