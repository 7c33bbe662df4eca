"""dist/kazoodesk-<version>-linux-x86_64.tar.gz, unpacked: the app runs from the folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from package_support import ROOT, assert_smoke_passed, smoke


def test_the_app_passes_the_smoke_test_offscreen(app_dir: Path, tmp_path: Path) -> None:
    # no display: the app picks the offscreen platform itself
    done, out = smoke(app_dir / "kazoodesk", tmp_path)

    assert_smoke_passed(done, out, tmp_path)


def test_the_app_passes_the_smoke_test_on_x11(app_dir: Path, tmp_path: Path, xvfb: str) -> None:
    # Qt's xcb platform, which exits at once if it cannot load
    done, out = smoke(app_dir / "kazoodesk", tmp_path, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")

    assert_smoke_passed(done, out, tmp_path)


def test_every_bundled_library_finds_what_it_links_to(app_dir: Path) -> None:
    """What the spec left out (plugins, the libraries only they needed) is needed by nothing
    kept: with the bundle first on the library path, as the app's launcher has it."""
    internal = app_dir / "_internal"
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    missing = {}
    for path in sorted(internal.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        done = subprocess.run(["ldd", str(path)], env=env, capture_output=True, text=True)
        lost = [line.split()[0] for line in done.stdout.splitlines() if "not found" in line]
        if lost:
            missing[str(path.relative_to(internal))] = lost

    assert missing == {}


def test_every_qt_module_the_app_imports_is_bundled(app_dir: Path) -> None:
    sources = (ROOT / "app" / "kazoodesk").rglob("*.py")
    imported = {m for p in sources for m in re.findall(r"PySide6\.(Qt\w+)", p.read_text())}
    bundled = {p.name.split(".")[0] for p in (app_dir / "_internal" / "PySide6").glob("Qt*.so")}

    assert imported - bundled == set()
