"""SIP messages as real peers send them (sipp's scenarios in ../shared/sipp, RFC examples)."""

from __future__ import annotations

SECRET = b"registrar-test-secret-0123456789"
REALM = "sim.local"


def sipp_register(
    user: str = "alice",
    *,
    cseq: int = 1,
    call_id: str = "1-4242@127.0.0.1",
    port: int = 5061,
    expires: str | None = "300",
    contact: str | None = None,
    authorization: str | None = None,
    branch: str = "z9hG4bK-4242-1-0",
    domain: str = REALM,
) -> bytes:
    """The REGISTER of sipp's register_auth.xml / register_load.xml, with its CRLFs."""
    lines = [
        f"REGISTER sip:{domain} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{domain}>;tag=4242SIPpTag001",
        f"To: <sip:{user}@{domain}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: {contact or f'<sip:{user}@127.0.0.1:{port};transport=UDP>'}",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    lines += [
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY",
        "User-Agent: SIPp-reference",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# Kamailio 5.6.3 accepted this exact Authorization (../shared/docs/sip-registrar.md §1.4)
KAMAILIO_AUTHORIZATION = (
    'Digest username="alice",realm="sim.local",cnonce="6b8b4567",nc=00000001,'
    'qop=auth,uri="sip:127.0.0.1:5070",nonce="awfP0WsHz7Mzwv5ECc7RYU/NIsfaNwCi",'
    'response="06b39c381b71d4d52e22b948cc478648",algorithm=MD5'
)

# RFC 3261 §24.2 (F1, Bob registers with a registrar), line endings as in the RFC text
RFC3261_REGISTER = (
    b"REGISTER sips:ss2.biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl\r\n"
    b"To: Bob <sips:bob@biloxi.example.com>\r\n"
    b"Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\n"
    b"CSeq: 1 REGISTER\r\n"
    b"Contact: <sips:bob@client.biloxi.example.com>\r\n"
    b"Content-Length: 0\r\n\r\n"
)

# Compact forms, LF-only line ends, folding and list values in one message
ODD_REGISTER = (
    b"\r\n\r\n"  # keepalive CRLFs before the start line (RFC 3261 §7.5)
    b"REGISTER sip:sim.local SIP/2.0\n"
    b"v: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bKodd1;rport, SIP/2.0/TCP proxy.example:5060"
    b";branch=z9hG4bKproxy\n"
    b"V: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlast\n"
    b'f: "Bob, the \\"phone\\"" <sip:bob@sim.local>;tag=f1\n'
    b"t: <sip:bob@Sim.Local>\n"
    b"i: odd-call@10.0.0.7\n"
    b"CSeq: 7\n"
    b"  REGISTER\n"
    b"m: <sip:bob@10.0.0.7:5062>;expires=60;q=0.7,\n"
    b'\t<sip:bob@198.51.100.4:5070>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
    b";reg-id=1\n"
    b"M: sip:bob@203.0.113.9;expires=0\n"
    b"user-agent: Odd/1.0\n"
    b"l: 4\n"
    b"\n"
    b"bodyEXTRA"
)
