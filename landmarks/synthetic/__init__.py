"""Data with known labels: landmark clips of varied faces making pain action units over time
(``sequences``), and real-looking frame folders animated from one real photo (``photo``)."""

from .expressions import CLASSES, action_units, pain_expression, temporal_profile
from .photo import animate_photo, astronaut
from .sequences import SyntheticSettings, clip_table, synthetic_clip, synthetic_sequences, write_synthetic_dataset

__all__ = ["CLASSES", "SyntheticSettings", "action_units", "animate_photo", "astronaut", "clip_table",
           "pain_expression", "synthetic_clip", "synthetic_sequences", "temporal_profile", "write_synthetic_dataset"]
