"""Seeing what the tracker saw: quality measures per clip, landmark overlays, contact sheets and a review of
a whole extraction (``python -m landmarks.review``)."""

from .drawing import contact_sheet, plot_frame
from .measures import ClipQuality, QualityThresholds, clip_quality
from .review import ReviewSettings, review_landmarks

__all__ = ["ClipQuality", "QualityThresholds", "ReviewSettings", "clip_quality", "contact_sheet", "plot_frame",
           "review_landmarks"]
