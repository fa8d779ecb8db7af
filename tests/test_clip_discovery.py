"""Which clips extraction finds under an input path, how they are named and ordered."""

from pathlib import Path

import pytest

from landmarks import find_clips
from landmarks.extraction.clips import frame_files, natural_key


def touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_natural_order_puts_frame_2_before_frame_10(tmp_path):
    for i in (10, 2, 1, 33):
        touch(tmp_path / f"frame_{i}.png")
    touch(tmp_path / "readme.txt")
    assert [p.name for p in frame_files(tmp_path)] == ["frame_1.png", "frame_2.png", "frame_10.png", "frame_33.png"]
    assert sorted(["c10", "c9", "C1"], key=natural_key) == ["C1", "c9", "c10"]


def test_dataset_root_lists_videos_frame_folders_and_empty_leaves(tmp_path):
    touch(tmp_path / "S01" / "Posed Pain" / "clip03" / "f1.png")
    touch(tmp_path / "S01" / "Posed Pain" / "clip10" / "f1.jpg")
    touch(tmp_path / "S01" / "Posed Pain" / "clip2" / "f1.BMP")
    touch(tmp_path / "S02" / "talk.MP4")
    touch(tmp_path / "S02" / "notes.txt")
    (tmp_path / "S03" / "missing").mkdir(parents=True)
    clips = find_clips(tmp_path)
    assert [(c.name, c.kind) for c in clips] == [
        ("S01/Posed Pain/clip2", "frames"),
        ("S01/Posed Pain/clip03", "frames"),
        ("S01/Posed Pain/clip10", "frames"),
        ("S02/talk", "video"),
        ("S03/missing", "empty"),
    ]


def test_single_clip_inputs_are_named_after_themselves(tmp_path):
    video = touch(tmp_path / "subject7.avi")
    assert [(c.name, c.kind) for c in find_clips(video)] == [("subject7", "video")]
    folder = tmp_path / "clip01"
    touch(folder / "0001.tif")
    assert [(c.name, c.kind) for c in find_clips(folder)] == [("clip01", "frames")]


def test_missing_input_and_non_video_file_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        find_clips(tmp_path / "does-not-exist")
    with pytest.raises(ValueError, match="not a video file"):
        find_clips(touch(tmp_path / "labels.csv"))
