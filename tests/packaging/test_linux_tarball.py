"""dist/kazoodesk-<version>-linux-x86_64.tar.gz, unpacked: the app runs from the folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from package_support import ROOT, SMOKE_TIMEOUT, assert_smoke_passed, smoke, user_env


def test_the_app_passes_the_smoke_test_offscreen(app_dir: Path, tmp_path: Path) -> None:
    # no display: the app picks the offscreen platform itself
    done, out = smoke(app_dir / "kazoodesk", tmp_path)

    assert_smoke_passed(done, out, tmp_path)


def test_the_app_passes_the_smoke_test_on_x11(app_dir: Path, tmp_path: Path, xvfb: str) -> None:
    # Qt's xcb platform, which exits at once if it cannot load
    done, out = smoke(app_dir / "kazoodesk", tmp_path, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")

    assert_smoke_passed(done, out, tmp_path)


def test_a_second_start_hands_over_to_the_first(app_dir: Path, tmp_path: Path) -> None:
    """The single-instance handshake (QtNetwork's local socket), which the smoke test skips."""
    env = user_env(tmp_path, QT_QPA_PLATFORM="offscreen", KAZOODESK_REPORT_STARTUP="1")
    first = subprocess.Popen(
        [app_dir / "kazoodesk"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert first.stdout is not None
        # said once the event loop runs, after the first started listening
        for line in first.stdout:
            if b"live list loaded" in line:
                break
        else:
            raise AssertionError(f"the first start ended (exit status {first.wait()})")

        second = subprocess.run(
            [app_dir / "kazoodesk"], env=env, capture_output=True, text=True, timeout=SMOKE_TIMEOUT
        )
    finally:
        first.terminate()
        first.wait(timeout=SMOKE_TIMEOUT)

    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    log = (tmp_path / "state" / "kazoodesk" / "log" / "kazoodesk.log").read_text()
    assert "another start on this demo store: showing the window" in log


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
