"""`kazoodesk --smoke-test OUT.png`: the whole app in demo mode, as a package would run it,
until a demo phone shows registered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QColor, QImage

REGISTERED_DOT = QColor("#2fa84f")  # the status column's "Registered" (device_icons.py)


def smoke(tmp_path: Path, data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    # no QT_QPA_PLATFORM and no display: the smoke test picks the offscreen platform itself
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY") and not k.startswith("XDG_")
    }
    env.update(HOME=str(tmp_path), WAYLAND_DISPLAY="")
    for kind in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{kind}_HOME"] = str(tmp_path / kind.lower())
    command = [sys.executable, "-m", "kazoodesk", "--data", str(data), "--smoke-test", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


def registered_dots(image: QImage) -> int:
    """Pixels of the Registered dot's colour in the status column (left of the list)."""
    return sum(
        1
        for x in range(0, 40)
        for y in range(image.height())
        if image.pixelColor(x, y) == REGISTERED_DOT
    )


def test_smoke_test_saves_a_screenshot_of_the_list_with_a_phone_registered(
    tmp_path: Path,
) -> None:
    out = tmp_path / "smoke.png"

    done = smoke(tmp_path, tmp_path / "data", out)

    assert done.returncode == 0, done.stderr
    assert re.search(r"smoke test passed: \d+ devices shown, [1-9]\d* registered", done.stdout)
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    assert registered_dots(image) > 20  # the picture shows it too
    log = tmp_path / "state" / "kazoodesk" / "log" / "kazoodesk.log"
    assert "KazooDesk" in log.read_text() and "exit 0" in log.read_text()


def test_smoke_test_fails_with_the_reason(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    done = smoke(tmp_path, not_a_directory, tmp_path / "smoke.png")

    assert done.returncode != 0
    assert "smoke test failed" in done.stderr and "not a directory" in done.stderr
    assert not (tmp_path / "smoke.png").exists()
