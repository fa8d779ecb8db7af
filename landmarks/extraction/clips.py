"""Finding clips under an input path: video files and folders that directly hold frames."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".webm", ".m4v", ".wmv", ".flv", ".3gp", ".ts", ".mts"}
)
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


@dataclass(frozen=True)
class Clip:
    """One unit of extraction.

    ``name`` is the clip's path relative to the input root without extension, using ``/`` separators;
    it names the output CSV and the manifest row. ``kind`` is ``"video"``, ``"frames"`` or ``"empty"``
    (a leaf folder holding neither frames nor videos, reported so that missing data is noticed).
    """

    name: str
    path: Path
    kind: str


def natural_key(text: str) -> list:
    """Sort key that orders embedded numbers numerically: ``frame_2`` before ``frame_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def frame_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` in natural order; other files are ignored."""
    files = [p for p in folder.iterdir() if p.is_file() and is_image(p) and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def _relative_name(path: Path, root: Path, strip_suffix: bool) -> str:
    relative = path.relative_to(root)
    if strip_suffix:
        relative = relative.with_suffix("")
    return relative.as_posix()


def find_clips(input_path: str | os.PathLike) -> list[Clip]:
    """Every clip under ``input_path`` in natural order.

    A single video file or a single frame folder is one clip named after itself. Under a data-set root,
    each video file and each folder that directly holds image files is a clip; leaf folders without
    either are listed as ``empty`` clips.
    """
    root = Path(input_path)
    if not root.exists():
        raise FileNotFoundError(f"input {root} does not exist; pass a video file, a frame folder or a dataset root")
    if root.is_file():
        if not is_video(root):
            raise ValueError(
                f"input {root} is not a video file (known extensions: {', '.join(sorted(VIDEO_EXTENSIONS))})"
            )
        return [Clip(root.stem, root, "video")]
    clips: list[Clip] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted((d for d in subfolders if not d.startswith(".")), key=natural_key)
        here = Path(folder)
        paths = [here / f for f in files if not f.startswith(".")]
        videos = [p for p in paths if is_video(p)]
        images = [p for p in paths if is_image(p)]
        for video in videos:
            clips.append(Clip(_relative_name(video, root, strip_suffix=True), video, "video"))
        if images:  # the root itself may be a frame folder: its clip is named after it
            name = root.name if here == root else _relative_name(here, root, strip_suffix=False)
            clips.append(Clip(name, here, "frames"))
        elif not subfolders and not videos and here != root:
            clips.append(Clip(_relative_name(here, root, strip_suffix=False), here, "empty"))
    return sorted(clips, key=lambda c: natural_key(c.name))
