"""Real face shapes to animate: the 68 points of the 43 faces in dlib's example photos, shipped with the
package (``data/dlib_example_faces.csv``), so synthetic subjects differ in identity as real people do
instead of being one template with noise.

Each shape is levelled (eyes horizontal), centred on the outer eye-corner midpoint and scaled to a unit
outer eye-corner distance, the units of ``landmarks.layout.MEAN_SHAPE``. ``shapes_from_dlib_xml`` reads
dlib's annotation files (``training_with_face_landmarks.xml``, ``testing_with_face_landmarks.xml``) the
same way, so the shipped table can be rebuilt and checked against its source.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..dataset.normalize import ShapeNormalizer
from ..layout import N_POINTS

SHAPES_FILE = Path(__file__).with_name("data") / "dlib_example_faces.csv"
XML_FILES = ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml")


def normalise_shape(points: np.ndarray) -> np.ndarray:
    """A shape (68, 2) in pixels to eye-corner units: eyes level, origin at their midpoint."""
    return ShapeNormalizer(centre="eyes", scale=True, level=True)(points)


def shapes_from_dlib_xml(paths: list[str | os.PathLike]) -> tuple[list[str], np.ndarray]:
    """Face names (``<image file>#<box number>``) and normalised shapes (faces, 68, 2) of dlib's XML
    annotation files, in file order."""
    names, shapes = [], []
    for path in paths:
        root = ElementTree.parse(path).getroot()
        for image in root.iter("image"):
            for number, box in enumerate(image.iter("box")):
                parts = {int(part.get("name")): (float(part.get("x")), float(part.get("y")))
                         for part in box.iter("part")}
                if sorted(parts) != list(range(N_POINTS)):
                    raise ValueError(f"{path}: face {number} of {image.get('file')} does not have the 68 points "
                                     f"00..67; only 68-point annotations can be used")
                names.append(f"{image.get('file')}#{number}")
                shapes.append(normalise_shape(np.array([parts[i] for i in range(N_POINTS)])))
    return names, np.stack(shapes)


@cache
def _shipped() -> tuple[tuple[str, ...], np.ndarray]:
    table = pd.read_csv(SHAPES_FILE)
    coords = table[[f"x_{i}" for i in range(N_POINTS)] + [f"y_{i}" for i in range(N_POINTS)]].to_numpy(float)
    return tuple(table["face"]), np.stack([coords[:, :N_POINTS], coords[:, N_POINTS:]], axis=-1)


def real_face_shapes() -> np.ndarray:
    """The 43 shipped real face shapes (43, 68, 2), eye-corner units (a copy)."""
    return _shipped()[1].copy()


def real_face_names() -> list[str]:
    """Where each shipped shape comes from: ``<photo>#<face number in the photo>``."""
    return list(_shipped()[0])


def write_shapes_table(names: list[str], shapes: np.ndarray, path: str | os.PathLike = SHAPES_FILE) -> None:
    """Write shapes as the shipped table: face, x_0..x_67, y_0..y_67 (4 decimals)."""
    columns = {"face": names}
    columns.update({f"x_{i}": np.round(shapes[:, i, 0], 4) for i in range(N_POINTS)})
    columns.update({f"y_{i}": np.round(shapes[:, i, 1], 4) for i in range(N_POINTS)})
    pd.DataFrame(columns).to_csv(path, index=False)
