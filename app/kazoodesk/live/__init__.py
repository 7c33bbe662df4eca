"""Live registration state, Qt-free: what the registration panel, the event log, the chart and
the list's status column show (tracker.py), and where it comes from: the server's events or
polling (feed.py)."""
