"""The device list: table model, filters and the list view."""
