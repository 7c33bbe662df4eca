"""The built packages (`make package`), as users get them: skipped until dist/ holds them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from package_support import DEB, TARBALL, built


@pytest.fixture(scope="session")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tar.gz unpacked: the folder with the `kazoodesk` executable."""
    tarball = built(TARBALL)
    target = tmp_path_factory.mktemp("tarball")
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(target)], check=True)
    (folder,) = target.iterdir()
    return folder


@pytest.fixture(scope="session")
def deb() -> Path:
    return built(DEB)


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[str]:
    """A display of an Xvfb started for the test (it picks a free display number itself and
    says which once it accepts clients); stopped by its PID."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read, write = os.pipe()
    command = [xvfb, "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"]
    with open(tmp_path / "xvfb.log", "wb") as log:
        server = subprocess.Popen(command, pass_fds=(write,), stdout=log, stderr=log)
    os.close(write)
    try:
        with os.fdopen(read) as ready:
            number = ready.readline().strip()
        assert number, f"Xvfb did not start:\n{(tmp_path / 'xvfb.log').read_text()}"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
