"""packaging/windows/kazoodesk.nsi compiles (Debian's makensis) around a stub payload.

The real payload is a Windows PyInstaller build, made only on Windows (release.yml); this
checks the script itself: syntax, includes, the defines it needs, the payload layout it takes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from package_support import ROOT

from kazoodesk import __version__

SCRIPT = ROOT / "packaging" / "windows" / "kazoodesk.nsi"
ICONS = ROOT / "packaging" / "icons.py"


@pytest.fixture(scope="module")
def makensis() -> str:
    found = shutil.which("makensis")
    if found is None:
        pytest.skip("makensis is not installed (apt-get install nsis)")
    return found


def compile_installer(makensis: str, tmp_path: Path, **defines: str) -> subprocess.CompletedProcess:
    command = [makensis, "-V2", "-NOCD", *(f"-D{k}={v}" for k, v in defines.items()), str(SCRIPT)]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)


def test_the_installer_compiles_around_a_stub_payload(makensis: str, tmp_path: Path) -> None:
    payload = tmp_path / "kazoodesk"
    (payload / "_internal" / "resources").mkdir(parents=True)
    (payload / "kazoodesk.exe").write_bytes(b"MZ stub")
    (payload / "_internal" / "resources" / "demo.json").write_text("{}")
    subprocess.run([sys.executable, ICONS, tmp_path / "icons"], check=True)
    out = tmp_path / f"kazoodesk-{__version__}-windows-x64-setup.exe"

    done = compile_installer(
        makensis,
        tmp_path,
        VERSION=__version__,
        APP_DIR=str(payload),
        ICON=str(tmp_path / "icons" / "kazoodesk.ico"),
        OUTFILE=str(out),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:2] == b"MZ"


def test_it_stops_when_a_define_is_missing(makensis: str, tmp_path: Path) -> None:
    done = compile_installer(makensis, tmp_path, VERSION=__version__)

    assert done.returncode != 0
    assert "define VERSION, APP_DIR, ICON and OUTFILE" in done.stdout + done.stderr
