"""What the package tests share: where `make package` puts the packages, and running the
built app as a user would, with a home of its own (HOME, XDG dirs, TMPDIR: the app keeps its
demo database, logs and single-instance lock there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kazoodesk import __version__

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
TARBALL = DIST / f"kazoodesk-{__version__}-linux-x86_64.tar.gz"
DEB = DIST / f"kazoodesk_{__version__}_amd64.deb"
SMOKE_TIMEOUT = 120  # seconds; the app gives up by itself after 60


SOURCES = ("app", "resources", "packaging")  # what a package is built from


def source_files() -> list[Path]:
    """The files of SOURCES, without what running and installing the app writes there, and
    without documentation."""
    files = (p for folder in SOURCES for p in (ROOT / folder).rglob("*") if p.is_file())
    written = ("__pycache__", ".egg-info")
    return [p for p in files if p.suffix != ".md" and not any(n.endswith(written) for n in p.parts)]


REQUIRED = "KAZOODESK_REQUIRE_PACKAGES"  # =1 (.ci/run): fail instead of skipping


def built(path: Path) -> Path:
    """`path`, or a skip when it is not built, or built before the last change to the sources
    (then it is not what these tests are about)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux packages are tested on Linux")
    name = path.relative_to(ROOT)
    changed = max(source_files(), key=lambda p: p.stat().st_mtime)
    if not path.is_file():
        unusable = f"{name} is not built: run `make package` first"
    elif changed.stat().st_mtime > path.stat().st_mtime:
        unusable = f"{name} is older than {changed.relative_to(ROOT)}: run `make package` again"
    else:
        return path
    if os.environ.get(REQUIRED) == "1":
        pytest.fail(unusable)
    pytest.skip(unusable)


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ without display, Qt or XDG settings, with a fresh home under `home`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "QT_")) and key not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    dirs = {
        "XDG_CONFIG_HOME": "config",
        "XDG_DATA_HOME": "data",
        "XDG_CACHE_HOME": "cache",
        "XDG_STATE_HOME": "state",
        "XDG_RUNTIME_DIR": "runtime",
        "TMPDIR": "tmp",
    }
    for key, name in dirs.items():
        (home / name).mkdir(mode=0o700, parents=True, exist_ok=True)
        env[key] = str(home / name)
    env["HOME"] = str(home)
    env.update(extra)
    return env


Done = subprocess.CompletedProcess[str]


def smoke(executable: Path, home: Path, **env: str) -> tuple[Done, Path]:
    """`kazoodesk --smoke-test OUT.png` as a user of `home` would run it."""
    out = home / "smoke.png"
    done = subprocess.run(
        [str(executable), "--smoke-test", str(out)],
        env=user_env(home, **env),
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
    )
    return done, out


def assert_smoke_passed(done: Done, out: Path, home: Path) -> None:
    from PySide6.QtGui import QImage

    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "smoke test passed" in done.stdout
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    assert not list(home.rglob("crash-*.txt")), "the app wrote a crash report"
