"""KazooDesk: desktop administration of Kazoo 4.3 devices, and an embedded Kazoo simulator."""

__version__ = "0.1.0"
