"""Frame features of a frozen backbone, computed once per data set and kept on disk.

With a frozen backbone, every fold and every head sees the same per-frame features, so the backbone runs
once per frame over the data set (batched, inference mode, the next batch of crops read while the current
one runs) and heads train on the cached sequences: a sweep over heads and folds costs little more than one
backbone pass.

The cache folder holds one sub-folder per *key*, the SHA-256 of everything that decides the numbers: the
backbone's name and a fingerprint of its weights (so ImageNet, a local file and a random initialisation
never share features), the input size, greyscale, frames per clip, the normalisation, and the crop
folder's geometry (its crops.json). Inside, one ``<clip>.npz`` per clip stamped with its crop file's size
and modification time: a clip cropped again is computed again, the rest are reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from landmarks.face_crops import SETTINGS_NAME
from landmarks.schema import write_atomic
from models.backbones import state_sha256

from .image_data import CropClips

CACHE_FORMAT = "facegraph-frame-features/1"


def normalise_frames(frames: np.ndarray, mean: tuple, std: tuple) -> torch.Tensor:
    """uint8 frames (..., H, W, 3) RGB -> float tensors (..., 3, H, W) normalised as a backbone expects."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)
    tensor = tensor.movedim(-1, -3)
    shape = (3, 1, 1)
    return (tensor - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


def crop_settings(crops_dir: str | os.PathLike) -> dict | None:
    """The settings a crop folder was made with (its crops.json), or None."""
    path = Path(crops_dir) / SETTINGS_NAME
    return json.loads(path.read_text()).get("settings") if path.is_file() else None


def _stamp(path: Path) -> str:
    status = path.stat()
    return f"{status.st_size}-{status.st_mtime_ns}"


class FeatureCache:
    """Features of ``backbone`` (a ``models.create_backbone`` module named ``backbone_name``) for the crop
    clips of ``crops_dir``, cached under ``root``. ``hits`` and ``computed`` count the clips served from
    disk and computed by the last ``features`` call."""

    def __init__(self, root: str | os.PathLike, backbone: nn.Module, backbone_name: str, crops_dir: str | os.PathLike,
                 device: str = "cpu") -> None:
        self.backbone, self.device = backbone.to(device).eval(), device
        self.crops_dir = Path(crops_dir)
        self.facts = {"format": CACHE_FORMAT, "backbone": backbone_name, "weights_sha256": state_sha256(backbone),
                      "mean": list(backbone.mean), "std": list(backbone.std),
                      "crops": crop_settings(self.crops_dir)}
        self.root = Path(root)
        self.hits = self.computed = 0

    def folder(self, clips: CropClips) -> Path:
        """The key folder of these clips' settings (length, size, greyscale) with this backbone."""
        facts = {**self.facts, "length": clips.length, "size": clips.size, "grey": clips.grey}
        key = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:20]
        folder = self.root / key
        if not (folder / "key.json").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "key.json").write_text(json.dumps(facts, indent=2) + "\n")
        return folder

    def _entry(self, folder: Path, clip_path: Path) -> Path:
        return folder / f"{clip_path.relative_to(self.crops_dir).with_suffix('').as_posix()}.npz"

    def _cached(self, entry: Path, stamp: str) -> np.ndarray | None:
        if not entry.is_file():
            return None
        with np.load(entry) as stored:
            return stored["features"] if str(stored["stamp"]) == stamp else None

    def features(self, clips: CropClips, batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """Feature sequences (N, length, F) float32 of ``clips``, from the cache where it holds them."""
        folder = self.folder(clips)
        result: list[np.ndarray | None] = []
        todo = []
        for i, path in enumerate(clips.paths):
            cached = self._cached(self._entry(folder, path), _stamp(path))
            result.append(cached)
            if cached is None:
                todo.append(i)
        self.hits, self.computed = len(clips) - len(todo), len(todo)
        if todo:
            started = time.perf_counter()
            for i, values in zip(todo, self._compute(clips, todo, batch_size, progress), strict=True):
                stamp = np.array(_stamp(clips.paths[i]))
                write_atomic(self._entry(folder, clips.paths[i]),
                             lambda handle, v=values, s=stamp: np.savez(handle, features=v, stamp=s))
                result[i] = values
            frames = len(todo) * clips.length
            seconds = time.perf_counter() - started
            tqdm.write(f"features of {len(todo)} clip(s) ({frames} frames) in {seconds:.1f} s "
                       f"({frames / seconds:.0f} frames/s); {self.hits} clip(s) from the cache {folder}",
                       file=sys.stderr)
        return np.stack(result).astype(np.float32)

    def _compute(self, clips: CropClips, todo: list[int], batch_size: int, progress: bool):
        """Yield the features of the clips ``todo`` in order; frames are batched across clips."""
        mean, std = self.backbone.mean, self.backbone.std
        frames_per_clip = clips.length
        clips_per_batch = max(1, batch_size // frames_per_clip)
        groups = [todo[i : i + clips_per_batch] for i in range(0, len(todo), clips_per_batch)]

        def prepare(group: list[int]) -> torch.Tensor:
            frames = np.concatenate([clips.clip(i) for i in group])
            return normalise_frames(frames, mean, std)

        bar = tqdm(total=len(todo) * frames_per_clip, unit="frame", desc="backbone features", disable=not progress,
                   leave=False)
        with ThreadPoolExecutor(1) as reader, torch.inference_mode():
            pending = reader.submit(prepare, groups[0]) if groups else None
            for index, group in enumerate(groups):
                batch = pending.result()
                if index + 1 < len(groups):
                    pending = reader.submit(prepare, groups[index + 1])  # read the next while this one runs
                output = self.backbone(batch.to(self.device)).float().cpu().numpy()
                bar.update(len(batch))
                yield from output.reshape(len(group), frames_per_clip, -1)
        bar.close()
