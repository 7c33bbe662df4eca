"""The schema-driven device editor."""
