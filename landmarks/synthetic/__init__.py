"""Data with known labels: landmark clips of varied faces making pain action units over time
(``sequences``), tasks on real face shapes whose classes differ only in their time course
(``dynamics``, with the shapes in ``faces``), and real-looking frame folders animated from one real photo
(``photo``)."""

from .dynamics import (
    DIFFICULTIES,
    HARD_AMPLITUDES,
    TASKS,
    Difficulty,
    dynamics_sequences,
    resolve_task,
    write_dynamics_task,
)
from .expressions import CLASSES, action_units, pain_expression, temporal_profile
from .faces import real_face_shapes
from .photo import animate_photo, astronaut, face_photos
from .sequences import SyntheticSettings, clip_table, synthetic_clip, synthetic_sequences, write_synthetic_dataset

__all__ = ["CLASSES", "DIFFICULTIES", "HARD_AMPLITUDES", "TASKS", "Difficulty", "SyntheticSettings", "action_units",
           "animate_photo", "astronaut", "clip_table", "dynamics_sequences", "face_photos", "pain_expression",
           "real_face_shapes", "resolve_task", "synthetic_clip", "synthetic_sequences", "temporal_profile",
           "write_dynamics_task", "write_synthetic_dataset"]
