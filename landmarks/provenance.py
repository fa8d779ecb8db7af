"""What every run records about where its numbers come from: package versions, the command and the time.

Extraction's run.json and a training run's config.json both start from ``run_record``.
"""

from __future__ import annotations

import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version

VERSIONED = ("facegraph", "numpy", "pandas", "opencv-python-headless", "dlib-bin", "torch", "torch_geometric",
             "torchvision", "timm", "scikit-learn", "imbalanced-learn")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """Python's and every numbers-deciding package's version ("not installed" where absent)."""
    return {"python": platform.python_version(), **{name: package_version(name) for name in VERSIONED}}


def run_record(**facts) -> dict:
    """The common head of a run's record: package and version, versions of what computed it, the command
    line and the start time; ``facts`` follow."""
    return {
        "package": "facegraph",
        "version": package_version("facegraph"),
        "versions": package_versions(),
        "command": list(sys.argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **facts,
    }
