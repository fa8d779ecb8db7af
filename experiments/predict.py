"""Score new recordings with a finished run: ``python -m experiments.predict RUN INPUT --out OUT``.

INPUT is what ``landmarks.extract`` takes (a video, a frame folder or a data-set root) or a folder of
landmark CSVs already extracted (graph and baseline runs). The same extraction (and, for image runs, the
same crops) the run's data had is applied, every clip is cut into windows of the run's clip length
(``--stride``, default half a window), each window is shaped exactly as the run shaped its clips and scored
by the mean of the run's fold models (``--fold K``: one of them). Windows whose share of frames with a
tracked face is below the run's minimum are marked and not scored: never scored on guessed landmarks.

OUT receives windows.csv (clip, window, start_frame, end_frame, start_s, end_s, tracked, scored,
p_<class>, label), clips.csv (one row per clip: the mean of its scored windows), manifest.csv (every clip's
status: ok, no_face, failed ...; a clip that fails never stops the rest), timelines/<clip>.png (class
probabilities over time, frames without a face shaded) and run.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from landmarks import ExtractionSettings, TrackerSettings, extract_landmarks
from landmarks.commands import UsageError, run_command
from landmarks.dataset.assemble import landmark_files
from landmarks.dataset.labels import PRESETS as LABEL_PRESETS
from landmarks.dataset.labels import resolve_label_map
from landmarks.dataset.reading import landmark_arrays, read_table
from landmarks.extraction.clips import find_clips
from landmarks.face_crops import SETTINGS_NAME, CropGeometry, crop_faces, load_crops
from landmarks.provenance import run_record
from landmarks.schema import MANIFEST_NAME, RUN_RECORD_NAME, STATUS_FAILED, STATUS_NO_FACE, STATUS_OK

from .plots import plot_timeline
from .scoring import RunError, RunScorer, Window, open_run
from .windows import windows_of

STATUS_TOO_FEW = "too_few_faces"


def is_landmark_folder(path: Path) -> bool:
    """A folder of landmark CSVs (and no frames or videos): already extracted."""
    if not path.is_dir() or not landmark_files(path):
        return False
    return all(clip.kind == "empty" for clip in find_clips(path))


def _source_config(scorer: RunScorer) -> dict:
    first = scorer.sources[0] if scorer.sources else scorer
    return json.loads((first.path / "config.json").read_text())


def extraction_settings(scorer: RunScorer) -> ExtractionSettings:
    """The extraction settings of the run's own landmarks (their run.json), or the defaults."""
    config = _source_config(scorer)
    folder = config.get("landmarks")
    if folder is None and config.get("crops"):
        crops = Path(config["crops"]) / SETTINGS_NAME
        folder = json.loads(crops.read_text()).get("landmarks") if crops.is_file() else None
    record = Path(folder) / RUN_RECORD_NAME if folder else None
    if record is None or not record.is_file():
        print("note: the run's landmark folder is not here; extracting with the default settings", file=sys.stderr)
        return ExtractionSettings()
    values = json.loads(record.read_text())["settings"]
    # runs extracted before segments existed never restarted tracking: segment_frames 0 reproduces them
    return ExtractionSettings(values["fps"], TrackerSettings(**values["tracker"]), values.get("segment_frames", 0))


def crop_geometry(scorer: RunScorer) -> CropGeometry:
    """The crop geometry of the image run's crops (crops.json, or the copy in the run's config.json)."""
    runs = [s for s in scorer.sources if s.inputs == "frames"] or [scorer]
    config = json.loads((runs[0].path / "config.json").read_text())
    settings = config.get("crop_settings")
    if settings is None and config.get("crops") and (Path(config["crops"]) / SETTINGS_NAME).is_file():
        settings = json.loads((Path(config["crops"]) / SETTINGS_NAME).read_text())["settings"]
    if settings is None:
        raise RunError(f"{runs[0].path}: the crops it was trained on ({config.get('crops')}) are gone and its "
                       f"config.json has no crop settings; re-run it to score new clips")
    return CropGeometry(**settings["geometry"])


def _clip_windows(clip: str, csv: Path, crops_dir: Path | None, scorer: RunScorer, window: int, stride: int):
    """The clip's windows, their facts (frames, times, tracked share) and its per-frame success."""
    table = read_table(csv)
    points, success = landmark_arrays(table)
    times = table["timestamp"].to_numpy(float) if "timestamp" in table.columns else np.arange(len(table)) / 30.0
    crops = None
    if crops_dir is not None:
        crops = load_crops(crops_dir / f"{clip}.npy")
        tracked = pd.read_csv(crops_dir / f"{clip}.frames.csv")["tracked"].to_numpy(bool)
        success = success & tracked
    windows = []
    for start, end in windows_of(len(points), window, stride):
        windows.append(Window(start, end, points[start:end], success[start:end],
                              None if crops is None else np.asarray(crops[start:end])))
    return windows, times, success


def score_clip(clip: str, csv: Path, crops_dir: Path | None, scorer: RunScorer, window: int, stride: int,
               groups: dict[str, str] | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """windows.csv rows of one clip, its frame times and its per-frame success."""
    windows, times, success = _clip_windows(clip, csv, crops_dir, scorer, window, stride)
    tracked = np.array([w.success.mean() for w in windows])
    scored = tracked >= scorer.min_tracked
    probabilities = np.full((len(windows), len(scorer.classes)), np.nan)
    if scored.any():
        per_fold = scorer.score([w for w, keep in zip(windows, scored, strict=True) if keep])
        probabilities[scored] = np.mean(list(per_fold.values()), axis=0)
    rows = pd.DataFrame({
        "clip": clip, "window": np.arange(len(windows)), "start_frame": [w.start + 1 for w in windows],
        "end_frame": [w.end for w in windows], "start_s": [times[w.start] for w in windows],
        "end_s": [times[w.end - 1] for w in windows], "tracked": np.round(tracked, 4), "scored": scored.astype(int),
    })
    for index, name in enumerate(scorer.classes):
        rows[f"p_{name}"] = np.round(probabilities[:, index], 6)
    rows["label"] = [scorer.classes[int(p.argmax())] if keep else "" for p, keep in zip(probabilities, scored,
                                                                                        strict=True)]
    if groups:
        for group in dict.fromkeys(groups.values()):
            members = [f"p_{name}" for name in scorer.classes if groups[name] == group]
            rows[f"group_{group}"] = rows[members].sum(axis=1, min_count=1).round(6)
        group_columns = [f"group_{group}" for group in dict.fromkeys(groups.values())]
        rows["group_label"] = [row[group_columns].astype(float).idxmax()[6:] if keep else ""
                               for (_, row), keep in zip(rows.iterrows(), scored, strict=True)]
    return rows, times, success


def _group_map(group: str | None, classes: list[str]) -> dict[str, str] | None:
    if group is None:
        return None
    label_map = resolve_label_map(group)
    mapped = {name: label_map(name) for name in classes}
    unmapped = [name for name, value in mapped.items() if value is None]
    if unmapped:
        raise UsageError(f"--group {group} does not map the run's class(es) {', '.join(unmapped)}: "
                         f"{label_map.description}")
    return mapped


def predict_run(
    run: str | os.PathLike,
    input_path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    stride: int | None = None,
    fold: int | None = None,
    group: str | None = None,
    workers: int = 1,
    timelines: bool = True,
    progress: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Score every clip under ``input_path`` with the run ``run`` into ``out``; returns clips.csv's table."""
    scorer = open_run(run, fold)
    groups = _group_map(group, scorer.classes)
    window = scorer.length
    stride = stride or max(1, window // 2)
    if stride < 1:
        raise UsageError(f"--stride must be at least 1 frame, got {stride}")
    input_path, out = Path(input_path), Path(out)
    if not input_path.exists():
        raise FileNotFoundError(f"input {input_path} does not exist; give a video, a frame folder, a data-set root "
                                f"or a folder of landmark CSVs")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    manifest: dict[str, dict] = {}
    if is_landmark_folder(input_path):
        if scorer.inputs == "frames":
            raise UsageError(f"{scorer.path} is an image run: give the videos or frame folders, not landmark CSVs")
        landmarks_dir = input_path
    else:
        landmarks_dir = out / "landmarks"
        extracted = extract_landmarks(input_path, landmarks_dir, settings=extraction_settings(scorer), workers=workers,
                                      progress=progress, record_extra={"seed": seed})
        manifest.update({row["clip"]: {"clip": row["clip"], "status": row["status"], "error": row["error"]}
                         for row in extracted.to_dict("records")})
    crops_dir = None
    if scorer.inputs == "frames":
        crops_dir = out / "crops"
        cropped = crop_faces(input_path, landmarks_dir, crops_dir, geometry=crop_geometry(scorer), workers=workers,
                             progress=False)
        for row in cropped.to_dict("records"):
            if row["status"] != STATUS_OK and manifest.get(row["clip"], {}).get("status") == STATUS_OK:
                manifest[row["clip"]] = {"clip": row["clip"], "status": row["status"], "error": row["error"]}
    files = landmark_files(landmarks_dir)
    tables, clip_rows = [], []
    for clip, csv in tqdm(files.items(), desc="scoring", unit="clip", disable=not progress):
        if manifest.get(clip, {}).get("status", STATUS_OK) not in (STATUS_OK, STATUS_NO_FACE):
            continue  # cropping failed: the manifest says why
        try:
            rows, times, success = score_clip(clip, csv, crops_dir, scorer, window, stride, groups)
        except (OSError, ValueError) as error:  # a bad clip never stops the rest
            manifest[clip] = {"clip": clip, "status": STATUS_FAILED, "error": str(error)}
            continue
        tables.append(rows)
        scored = rows[rows["scored"] == 1]
        status = STATUS_OK if len(scored) else (STATUS_NO_FACE if not success.any() else STATUS_TOO_FEW)
        error = "" if len(scored) else ("no frame with a face" if status == STATUS_NO_FACE else
                                        f"no window with {100 * scorer.min_tracked:.0f}% of its frames tracked")
        manifest[clip] = {"clip": clip, "status": status, "error": error}
        summary = {"clip": clip, "frames": len(success), "windows": len(rows), "scored_windows": len(scored),
                   "tracked": round(float(success.mean()), 4), "status": status}
        scores = [c for c in rows.columns if c.startswith(("p_", "group_")) and c != "group_label"]
        for column in scores:
            summary[column] = round(float(scored[column].mean()), 6) if len(scored) else np.nan
        probabilities = [summary[f"p_{name}"] for name in scorer.classes]
        summary["label"] = scorer.classes[int(np.argmax(probabilities))] if len(scored) else ""
        if groups:
            grouped = [c for c in scores if c.startswith("group_")]
            summary["group_label"] = max(grouped, key=lambda c: summary[c])[6:] if len(scored) else ""
        clip_rows.append(summary)
        if timelines:
            names = [c for c in scores if c.startswith("group_")] if groups else [f"p_{n}" for n in scorer.classes]
            plot_timeline(rows, names, times, success, out / "timelines" / f"{clip}.png", title=clip)
    windows = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    windows.to_csv(out / "windows.csv", index=False)
    clips = pd.DataFrame(clip_rows)
    clips.to_csv(out / "clips.csv", index=False)
    pd.DataFrame(list(manifest.values()), columns=["clip", "status", "error"]).to_csv(out / MANIFEST_NAME, index=False)
    record = run_record(run=str(Path(run).resolve()), input=str(input_path), out=str(out), window=window, stride=stride,
                        fold=fold, group=group, seed=seed, seconds=round(time.perf_counter() - started, 2))
    (out / RUN_RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n")
    return clips


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a finished run folder (graph, baseline, image or fused run)")
    parser.add_argument("input", help="a video, a frame folder, a data-set root, or a folder of landmark CSVs")
    parser.add_argument("--out", required=True, help="folder for windows.csv, clips.csv, manifest.csv, timelines/")
    parser.add_argument("--stride", type=int, help="frames between window starts (default: half the run's clip length)")
    parser.add_argument("--fold", type=int, help="score with this fold's model only (default: the mean of all folds)")
    parser.add_argument("--group", choices=list(LABEL_PRESETS),
                        help="also group the classes by a label-map preset (e.g. emotion-valence: positive / negative "
                             "/ neutral), in windows.csv, clips.csv and the timelines")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="extraction processes")
    parser.add_argument("--no-timelines", action="store_true", help="skip the timeline figures")
    parser.add_argument("--seed", type=int, default=0, help="recorded; scoring involves no randomness")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        clips = predict_run(args.run, args.input, args.out, stride=args.stride, fold=args.fold, group=args.group,
                            workers=args.workers, timelines=not args.no_timelines, progress=not args.quiet,
                            seed=args.seed)
        scored = int((clips["status"] == STATUS_OK).sum()) if len(clips) else 0
        print(f"{len(clips)} clip(s) scored ({scored} with windows to score) -> {args.out}")
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
