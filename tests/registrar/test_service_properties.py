"""Hypothesis: whatever arrives, the registrar's request path itself raises nothing (so the
catch-all in `Registrar.handle` never hides a bug), and what it sends back parses."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sip_client import Directory, device
from sip_samples import KAMAILIO_AUTHORIZATION, SECRET, sipp_register

from kazoodesk.simulator.registrar.headers import SipParseError
from kazoodesk.simulator.registrar.message import parse_message
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.register import RegistrarPolicy
from kazoodesk.simulator.registrar.service import Registrar

SEEDS = [
    sipp_register(),
    sipp_register(cseq=2, authorization=KAMAILIO_AUTHORIZATION),
    sipp_register(contact="*", expires="0"),
    sipp_register(expires="60"),
    sipp_register(expires=None, contact="<sip:alice@127.0.0.1:5061>;expires=abc"),
]


class RecordingLink:
    name = "UDP"
    reliable = False

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes, addr: tuple[str, int]) -> bool:
        self.sent.append(data)
        return True


def registrar() -> Registrar:
    directory = Directory()
    directory.add(device("alice"))
    directory.add(device("pbx", password="", method="ip", ip="127.0.0.2"))
    return Registrar(
        RegistrarPolicy(), NonceSigner(SECRET), directory.lookup, directory.realm_known,
        directory.lookup_ip,
    )  # fmt: skip


REGISTRAR = registrar()


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.binary(max_size=12) | st.sampled_from([b"\r\n", b",", b"*", b"<", b'"']))
        cut = draw(st.integers(0, 10))
        data[at : at + cut] = junk
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=600) | mutated_seed(),
    from_ip=st.sampled_from(["127.0.0.1", "127.0.0.2"]),
)
def test_any_input_is_answered_cleanly_or_dropped(data: bytes, from_ip: str) -> None:
    link = RecordingLink()
    REGISTRAR._handle(data, (from_ip, 5061), link)  # the path without the catch-all
    for answer in link.sent:
        try:
            response = parse_message(answer)
        except SipParseError as exc:  # a 400 copies the broken CSeq back, as Kamailio does
            assert exc.message is not None and "CSeq" in exc.reason
            response = exc.message
        assert 200 <= response.status < 600  # final, and never 6xx (RFC 3261 §10.3)
