"""`kazoodesk --smoke-test OUT.png`: the whole app in demo mode, as a package would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage


def smoke(tmp_path: Path, data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    # no QT_QPA_PLATFORM and no display: the smoke test picks the offscreen platform itself
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.update(HOME=str(tmp_path), WAYLAND_DISPLAY="")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    command = [sys.executable, "-m", "kazoodesk", "--data", str(data), "--smoke-test", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


def test_smoke_test_saves_a_screenshot_of_the_loaded_list(tmp_path: Path) -> None:
    out = tmp_path / "smoke.png"

    done = smoke(tmp_path, tmp_path / "data", out)

    assert done.returncode == 0, done.stderr
    assert "smoke test passed" in done.stdout
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500


def test_smoke_test_fails_with_the_reason(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    done = smoke(tmp_path, not_a_directory, tmp_path / "smoke.png")

    assert done.returncode != 0
    assert "smoke test failed" in done.stderr and "not a directory" in done.stderr
    assert not (tmp_path / "smoke.png").exists()
