"""Build the Linux packages from PyInstaller's one-folder build (dist/kazoodesk/):

    dist/kazoodesk-<version>-linux-x86_64.tar.gz  the folder as kazoodesk-<version>/, to run as is
    dist/kazoodesk_<version>_amd64.deb            /opt/kazoodesk, /usr/bin/kazoodesk, menu, icon

`make package` runs it after PyInstaller and packaging/icons.py (build/icons/). It needs
dpkg-deb and dpkg-shlibdeps (Debian's dpkg-dev), which computes the .deb's Depends from what the
bundled binaries link to. Every timestamp is SOURCE_DATE_EPOCH (the last commit's time unless
set), so one tree builds the same archives twice.
"""

from __future__ import annotations

import gzip
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
APP_DIR = DIST / "kazoodesk"  # PyInstaller's output
ICONS = ROOT / "build" / "icons"
STAGING = ROOT / "build" / "deb"
HERE = Path(__file__).parent

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
MAINTAINER = "KazooDesk maintainers <maintainers@kazoodesk.invalid>"
DESCRIPTION = """\
Desktop administration of Kazoo 4.3 devices
 KazooDesk lists, edits and creates the devices (SIP phones, softphones, cell
 phones...) of a Kazoo 4.3 account through its Crossbar API. Without a server
 it runs a built-in demo: an offline Kazoo devices API and SIP registrar with
 demo phones registering to it."""


def version() -> str:
    sys.path.insert(0, str(ROOT / "app"))
    from kazoodesk import __version__

    return __version__


def source_date_epoch() -> int:
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    done = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit("not a git checkout: set SOURCE_DATE_EPOCH")
    return int(done.stdout)


def build_tarball(name: str, epoch: int) -> Path:
    """The one-folder app as <name>/, owned by root, every mtime the epoch."""

    def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = epoch
        info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
        return info

    path = DIST / f"{name}.tar.gz"
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.add(APP_DIR, arcname=name, filter=normalised)  # entries are added sorted
    return path


def stage_deb(root: Path) -> None:
    """The installed tree: the app in /opt/kazoodesk, its command, menu entry and icons."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(APP_DIR, root / "opt" / "kazoodesk", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "kazoodesk").symlink_to("/opt/kazoodesk/kazoodesk")
    share = root / "usr" / "share"
    applications = share / "applications"
    applications.mkdir(parents=True)
    shutil.copy(HERE / "kazoodesk.desktop", applications)
    hicolor = share / "icons" / "hicolor"
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "icons" / "app" / "kazoodesk.svg", hicolor / "scalable/apps")
    for size in PNG_SIZES:
        apps = hicolor / f"{size}x{size}" / "apps"
        apps.mkdir(parents=True)
        shutil.copy(ICONS / f"kazoodesk-{size}.png", apps / "kazoodesk.png")
    doc = share / "doc" / "kazoodesk"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: kazoodesk\n\nFiles: *\nLicense: MIT\n"
        " The app bundles Python, Qt (LGPLv3, via PySide6) and other libraries under\n"
        " their own licenses, in /opt/kazoodesk/_internal.\n"
    )
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            executable = path.is_dir() or path.stat().st_mode & 0o111
            path.chmod(0o755 if executable else 0o644)


def shlib_depends(app: Path, arch: str) -> str:
    """Depends for what the bundled binaries link to outside the bundle (and to the system
    copies of what PyInstaller copied in), as dpkg-shlibdeps works it out."""
    elves = [str(p) for p in sorted(app.rglob("*")) if is_elf(p)]
    private = [f"-l{app / '_internal'}", f"-l{app / '_internal' / 'PySide6' / 'Qt' / 'lib'}"]
    with tempfile.TemporaryDirectory() as work:  # it wants a debian/control to read
        (Path(work) / "debian").mkdir()
        (Path(work) / "debian" / "control").write_text(
            f"Source: kazoodesk\n\nPackage: kazoodesk\nArchitecture: {arch}\n"
        )
        done = subprocess.run(
            ["dpkg-shlibdeps", "-O", "--ignore-missing-info", *private, *elves],
            cwd=work,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise SystemExit(f"dpkg-shlibdeps failed:\n{done.stderr}")
    return done.stdout.strip().removeprefix("shlibs:Depends=")


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def installed_size_kib(root: Path) -> int:
    files = [p for p in root.rglob("*") if not p.is_dir() or p.is_symlink()]
    return sum(1 if p.is_symlink() else -(-p.stat().st_size // 1024) for p in files)


def build_deb(name: str, ver: str, arch: str, epoch: int) -> Path:
    root = STAGING / name
    stage_deb(root)
    control = root / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: kazoodesk\nVersion: {ver}\nArchitecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\nInstalled-Size: {installed_size_kib(root)}\n"
        f"Depends: {shlib_depends(root / 'opt' / 'kazoodesk', arch)}\n"
        f"Section: comm\nPriority: optional\nDescription: {DESCRIPTION}\n"
    )
    control.chmod(0o644)
    path = DIST / f"{name}.deb"
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(path)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def main() -> None:
    if not (APP_DIR / "kazoodesk").is_file():
        raise SystemExit(f"{APP_DIR}/kazoodesk is missing: run PyInstaller first (make package)")
    ver, machine, epoch = version(), platform.machine(), source_date_epoch()
    tarball = build_tarball(f"kazoodesk-{ver}-linux-{machine}", epoch)
    deb = build_deb(f"kazoodesk_{ver}_{DEB_ARCH[machine]}", ver, DEB_ARCH[machine], epoch)
    for path in (tarball, deb):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"installed: {installed_size_kib(STAGING / deb.stem) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
