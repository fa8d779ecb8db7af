"""One row of features per clip, for classical learners (``experiments.feature_branch``): summaries of a frozen
image backbone's frame features, hand-crafted landmark features, or both side by side.

- image features (from the image branch's feature cache): each clip's ``mean`` over frames, ``mean-std``
  (mean and standard deviation: how much each feature moves), or ``frames`` (every frame's features in time
  order); a still image (one frame) keeps its own features (the std of one frame is no feature);
- landmark features (normalised shapes): per frame, the 136 coordinates and the length of every edge of the
  anatomical facial graph (distances between joined landmarks: brow to eye, lip to lip ...), each summarised
  over the clip by its mean, standard deviation, minimum, maximum and mean frame-to-frame change (speed);
  a one-frame clip (a still image) keeps the mean alone.

``FeatureRows`` carries the rows with their subjects, so a selector's inner cross-validation can keep each
person's clips together (``AntColonySelector.fit(..., groups=)``), and indexes by clip positions as the
cross-validation engine indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

IMAGE_SUMMARIES = ("mean", "mean-std", "frames")
LANDMARK_STATISTICS = ("mean", "std", "min", "max", "speed")


@dataclass
class FeatureRows:
    """Feature rows (N, F) float64 of clips, their subjects (N,) and the features' names (F,)."""

    values: np.ndarray
    groups: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index) -> FeatureRows:
        return replace(self, values=self.values[index], groups=self.groups[index])

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def image_summary(features: np.ndarray, summary: str = "mean") -> tuple[np.ndarray, list[str]]:
    """Clip rows from frame features (N, T, F): ``mean``, ``mean-std`` or ``frames`` (N, T * F)."""
    features = np.asarray(features, dtype=np.float64)
    count, frames, width = features.shape
    columns = [f"f{j}" for j in range(width)]
    if summary == "mean" or (summary == "mean-std" and frames == 1):  # a still's std is 0: its mean alone
        return features.mean(axis=1), [f"image:{c}:mean" for c in columns]
    if summary == "mean-std":
        names = [f"image:{c}:mean" for c in columns] + [f"image:{c}:std" for c in columns]
        return np.concatenate([features.mean(axis=1), features.std(axis=1)], axis=1), names
    if summary == "frames":
        names = [f"image:{c}:t{t}" for t in range(frames) for c in columns]
        return features.reshape(count, frames * width), names
    raise ValueError(f"image summary must be one of {', '.join(IMAGE_SUMMARIES)}, got {summary!r}")


def landmark_features(X: np.ndarray, edges: list[tuple[int, int]]) -> tuple[np.ndarray, list[str]]:
    """Clip rows from normalised landmark clips (N, T, 68, C): the statistics of coordinates and of the
    lengths of ``edges`` over each clip's frames (only their mean for one-frame clips)."""
    points = np.asarray(X, dtype=np.float64)[..., :2]
    count, frames = points.shape[:2]
    coordinates = points.reshape(count, frames, -1)  # x_0, y_0, x_1, y_1 ...
    a, b = np.array(edges).T
    lengths = np.linalg.norm(points[:, :, a] - points[:, :, b], axis=-1)
    per_frame = np.concatenate([coordinates, lengths], axis=2)
    labels = [f"{axis}_{i}" for i in range(points.shape[2]) for axis in "xy"] + [f"d_{i}_{j}" for i, j in edges]
    if frames == 1:
        return per_frame[:, 0], [f"landmarks:{label}:mean" for label in labels]
    speed = np.abs(np.diff(per_frame, axis=1)).mean(axis=1)
    statistics = {"mean": per_frame.mean(axis=1), "std": per_frame.std(axis=1), "min": per_frame.min(axis=1),
                  "max": per_frame.max(axis=1), "speed": speed}
    names = [f"landmarks:{label}:{name}" for name in LANDMARK_STATISTICS for label in labels]
    return np.concatenate([statistics[name] for name in LANDMARK_STATISTICS], axis=1), names
