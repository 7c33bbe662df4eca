"""dist/kazoodesk_<version>_amd64.deb: installed with dpkg into a scratch root, not the machine.

dpkg --root installs the files and records the package as on a system; what it cannot do is
make the root the machine's /: /usr/bin/kazoodesk links to /opt/kazoodesk/kazoodesk, which
from outside the root is the machine's path. The app is therefore started through a link of
the same kind that points into the root (the app must find its files through a link either way).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from package_support import assert_smoke_passed, smoke

MB = 1000 * 1000
DEB_LIMIT = 80 * MB
INSTALLED_LIMIT = 250 * MB
# what Qt's xcb platform links to, which a clean Debian desktop may lack
XCB_DEPENDS = {
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
}


@pytest.fixture(scope="session")
def root(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty root with a dpkg database, and the package installed into it."""
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    root = tmp_path_factory.mktemp("root")
    admin = root / "var" / "lib" / "dpkg"
    for name in ("info", "updates", "triggers"):
        (admin / name).mkdir(parents=True)
    (admin / "status").touch()
    command = [
        "dpkg",
        f"--root={root}",
        f"--log={root / 'dpkg.log'}",
        "--force-not-root",  # when the tests do not run as root
        "--force-depends",  # the root has none of the libraries: the machine's are used
        "--install",
        str(deb),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return root


def field(deb: Path, name: str) -> str:
    done = subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_dpkg_records_the_package_as_installed(root: Path) -> None:
    done = subprocess.run(
        ["dpkg-query", f"--root={root}", "--show", "--showformat=${Status}", "kazoodesk"],
        capture_output=True,
        text=True,
    )

    assert done.stdout == "install ok installed"


def test_the_installed_command_passes_the_smoke_test(root: Path, tmp_path: Path) -> None:
    command = root / "usr" / "bin" / "kazoodesk"
    assert command.is_symlink() and str(command.readlink()) == "/opt/kazoodesk/kazoodesk"
    link = tmp_path / "bin" / "kazoodesk"
    link.parent.mkdir()
    link.symlink_to(root / "opt" / "kazoodesk" / "kazoodesk")

    done, out = smoke(link, tmp_path / "home")

    assert_smoke_passed(done, out, tmp_path / "home")


def test_the_desktop_entry_validates_and_names_an_installed_icon(root: Path) -> None:
    entry = root / "usr" / "share" / "applications" / "kazoodesk.desktop"
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")

    done = subprocess.run([validate, str(entry)], capture_output=True, text=True)

    assert (done.returncode, done.stdout) == (0, "")
    lines = entry.read_text().splitlines()
    assert "Exec=kazoodesk" in lines and "Icon=kazoodesk" in lines
    icons = root / "usr" / "share" / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / "kazoodesk.svg").is_file()
    assert (icons / "256x256" / "apps" / "kazoodesk.png").is_file()


def test_it_depends_on_what_qt_xcb_platform_links_to(deb: Path) -> None:
    depends = {item.split()[0] for item in field(deb, "Depends").split(", ")}

    assert XCB_DEPENDS - depends == set()


def test_sizes_are_within_the_targets(deb: Path, root: Path) -> None:
    installed = sum(
        p.stat().st_size for p in (root / "opt").rglob("*") if p.is_file() and not p.is_symlink()
    )
    print(f"\n.deb {deb.stat().st_size / MB:.1f} MB, installed {installed / MB:.1f} MB")

    assert deb.stat().st_size <= DEB_LIMIT
    assert installed <= INSTALLED_LIMIT
    assert int(field(deb, "Installed-Size")) * 1024 <= INSTALLED_LIMIT
