"""Where the bundled resources (schemas, demo data, icons) live."""

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder: next to the source tree, or inside a frozen build."""
    override = os.environ.get("KAZOODESK_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
