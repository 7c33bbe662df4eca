"""HTTPS: the system trust store by default, or the `verify` given (a context, or False)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiohttp import web
from kazoo_support import envelope, standin

from kazoodesk.kazoo import KazooClient, KazooUnavailable

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (no system trusts it)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def schema(request: web.Request) -> web.Response:
    return envelope({"id": "devices", "type": "object"})


def fetch_over_tls(certificate: tuple[Path, Path], verify: bool | ssl.SSLContext) -> object:
    """`client.schema("devices")` from an HTTPS stand-in using `certificate`."""
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(*certificate)

    async def scenario() -> object:
        async with (
            standin({("GET", "/v2/schemas/devices"): schema}, tls=server_tls) as url,
            KazooClient(url, verify=verify) as client,
        ):
            return await client.schema("devices")

    return asyncio.run(scenario())


def test_an_untrusted_certificate_is_refused_by_default(certificate: tuple[Path, Path]) -> None:
    with pytest.raises(KazooUnavailable) as caught:
        fetch_over_tls(certificate, True)
    assert str(caught.value).startswith("the TLS certificate of 127.0.0.1:")
    assert "is not trusted" in str(caught.value)


def test_a_context_that_trusts_the_certificate_connects(certificate: tuple[Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    assert fetch_over_tls(certificate, trusting) == {"id": "devices", "type": "object"}


def test_verify_false_connects_to_anything(certificate: tuple[Path, Path]) -> None:
    assert fetch_over_tls(certificate, False) == {"id": "devices", "type": "object"}
