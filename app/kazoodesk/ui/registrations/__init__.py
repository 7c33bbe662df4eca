"""The live registration views: the panel, the event log, the activity chart, the history."""
