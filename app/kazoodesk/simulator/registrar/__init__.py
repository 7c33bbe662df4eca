"""The simulator's SIP registrar.

Pure core (no sockets, no event loop): `headers` and `message` parse and build SIP,
`digest` checks HTTP Digest credentials, `nonces` issues stateless signed nonces and
`bindings` keeps the location table (RFC 3261 §10.3 with Kazoo's one-contact-per-AOR rule).
"""
