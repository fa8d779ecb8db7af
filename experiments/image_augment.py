"""Image augmentation of face-crop clips as Agam et al. list it: rotation up to 20 degrees, shift up to 15%,
zoom up to 20%, shear up to 5 degrees, horizontal flip; one draw of the parameters per clip, applied to
every frame, so the augmentation never invents motion between frames.

torchvision's v2 transforms draw their parameters once per call and apply them to every image of a batch
tensor; a clip (T, 3, H, W) is passed as one such batch. The draw is seeded from the caller's generator,
so the same seed gives the same augmented clips.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms import v2


class ClipAugmentation:
    """Random affine motion and mirroring of a whole clip of crops (T, H, W, 3) uint8."""

    def __init__(self, degrees: float = 20.0, shift: float = 0.15, zoom: float = 0.2, shear: float = 5.0,
                 flip: bool = True) -> None:
        steps = [v2.RandomAffine(degrees, translate=(shift, shift), scale=(1 - zoom, 1 + zoom), shear=shear)]
        if flip:
            steps.append(v2.RandomHorizontalFlip())
        self.transform = v2.Compose(steps)

    def __call__(self, clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        frames = torch.from_numpy(np.ascontiguousarray(clip)).permute(0, 3, 1, 2)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**62)))
            moved = self.transform(frames)
        return moved.permute(0, 2, 3, 1).numpy()
