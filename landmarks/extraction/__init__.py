"""The extraction stage: every clip (a video or a folder of frames) to a CSV of 68 dlib landmarks per frame,
with a manifest, a run record and resume."""

from .clips import Clip, find_clips
from .frames import ClipReadError
from .model_files import predictor_path
from .pipeline import ExtractionSettings, extract_clip, extract_landmarks
from .tracker import FaceTracker, TrackerSettings

__all__ = ["Clip", "ClipReadError", "ExtractionSettings", "FaceTracker", "TrackerSettings", "extract_clip",
           "extract_landmarks", "find_clips", "predictor_path"]
