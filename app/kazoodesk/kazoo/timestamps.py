"""Kazoo's two clocks: ISO 8601 envelope timestamps and Gregorian seconds in documents.

The envelope `timestamp` ends in `Z` from 4.3.x on but had no zone at all in 4.3.0 and 4.2
(kazoo-api.md §3.1); both mean UTC. Documents and registrations count Gregorian seconds
(seconds since 0000-01-01 UTC, i.e. Unix time + 62167219200; `created_from` etc. in §5.1,
`event_timestamp` in §15).
"""

from __future__ import annotations

from datetime import UTC, datetime

GREGORIAN_UNIX_OFFSET = 62_167_219_200  # Gregorian seconds at 1970-01-01T00:00:00Z


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from `2024-01-01T12:00:00Z`, `2018-05-16T19:08:00` (no zone:
    UTC, as Kazoo 4.3.0 wrote it), or any other ISO 8601 form with an offset.

    Raises ValueError for text that is not a timestamp.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_gregorian(seconds: float) -> datetime:
    """The aware UTC datetime of a Gregorian-seconds value."""
    return datetime.fromtimestamp(seconds - GREGORIAN_UNIX_OFFSET, UTC)


def to_gregorian(moment: datetime) -> int:
    """Gregorian seconds of an aware datetime (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) + GREGORIAN_UNIX_OFFSET
