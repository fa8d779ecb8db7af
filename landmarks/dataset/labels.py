"""Where clip labels and subjects come from: a labels CSV, or a path component with a label map.

Label maps are explicit (name -> class) or one of the presets below. Names are matched after
lower-casing and dropping spaces, underscores and hyphens, so ``Posed Pain``, ``posed_pain`` and
``PosedPain`` are the same stimulus.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


def canonical(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


@dataclass(frozen=True)
class LabelMap:
    """Maps a path component (e.g. the PEMF stimulus folder) to a class name.

    ``rule`` returns the class for a canonical name, or None when the name is unknown; ``classes`` fixes
    the class order (and so the integer labels).
    """

    name: str
    classes: tuple[str, ...]
    rule: Callable[[str], str | None]
    description: str = ""

    def __call__(self, raw: str) -> str | None:
        return self.rule(canonical(raw))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str], name: str = "custom") -> LabelMap:
        table = {canonical(k): v for k, v in mapping.items()}
        classes = tuple(dict.fromkeys(mapping.values()))
        return cls(name, classes, table.get, f"explicit map of {len(table)} names")


def _pain_binary(name: str) -> str | None:
    return "pain" if "pain" in name else "no_pain"


def _phasic_tonic(name: str) -> str | None:
    for cls in ("phasic", "tonic", "neutral"):
        if cls in name:
            return cls
    return None


_EMOTIONS = {
    "happy": "positive", "happiness": "positive", "joy": "positive", "surprise": "positive",
    "surprised": "positive", "anger": "negative", "angry": "negative", "disgust": "negative",
    "disgusted": "negative", "fear": "negative", "fearful": "negative", "afraid": "negative",
    "sad": "negative", "sadness": "negative", "contempt": "negative", "neutral": "neutral",
}

PRESETS: dict[str, LabelMap] = {
    "pemf-binary": LabelMap(
        "pemf-binary", ("no_pain", "pain"), _pain_binary,
        "PEMF <subject>/<stimulus>/<clip>: stimuli whose name contains 'pain' -> pain, all others -> no_pain "
        "(binary pain / no pain as in Ridouan et al.)",
    ),
    "phasic-tonic": LabelMap(
        "phasic-tonic", ("neutral", "phasic", "tonic"), _phasic_tonic,
        "stimulus names containing 'phasic', 'tonic' or 'neutral' -> that class (Agam et al.'s 3 classes)",
    ),
    "emotion-valence": LabelMap(
        "emotion-valence", ("negative", "neutral", "positive"), _EMOTIONS.get,
        "7 basic emotions -> valence: happiness, surprise -> positive; anger, disgust, fear, sadness, "
        "contempt -> negative; neutral -> neutral",
    ),
}


def resolve_label_map(label_map: str | Mapping[str, str] | LabelMap | None) -> LabelMap | None:
    """A preset name (``pemf-binary``, ``phasic-tonic``, ``emotion-valence``; ``stimulus`` = the component
    itself), an explicit mapping, or a LabelMap."""
    if label_map is None or isinstance(label_map, LabelMap):
        return label_map
    if isinstance(label_map, str):
        if label_map == "stimulus":
            return None
        if label_map not in PRESETS:
            raise ValueError(f"unknown label preset {label_map!r}; presets: stimulus, {', '.join(PRESETS)}")
        return PRESETS[label_map]
    return LabelMap.from_mapping(label_map)


def read_labels_file(path: str | os.PathLike) -> pd.DataFrame:
    """A labels CSV with columns ``clip,label`` and optionally ``subject``; clip ids use ``/`` and carry
    no ``.csv``. Without a subject column, the subject is the clip's first path component."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} does not exist")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.columns = [c.strip().lower() for c in table.columns]
    missing = {"clip", "label"} - set(table.columns)
    if missing:
        absent = ", ".join(sorted(missing))
        raise ValueError(f"labels file {path} lacks column(s) {absent}; expected clip,label[,subject]")
    table["clip"] = table["clip"].str.strip().str.replace("\\", "/", regex=False).str.removesuffix(".csv")
    duplicated = table["clip"][table["clip"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"labels file {path} lists clip(s) more than once: {', '.join(duplicated[:5])}")
    empty = table["clip"][table["label"].str.strip() == ""].tolist()
    if empty:
        raise ValueError(f"labels file {path} has no label for clip(s): {', '.join(empty[:5])}")
    if "subject" not in table.columns:
        table["subject"] = table["clip"].str.split("/").str[0]
    return table[["clip", "label", "subject"]]
