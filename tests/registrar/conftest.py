"""`sip_front`: run a module's tests with the registrar alone and with its SIP front process
(`pytestmark = pytest.mark.usefixtures("sip_front")`): both must behave the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sip_client import FRONT


@pytest.fixture(params=[False, True], ids=["one-process", "front"])
def sip_front(request: pytest.FixtureRequest) -> Iterator[bool]:
    FRONT.on = request.param
    yield request.param
    FRONT.on = False
