"""The device list: table model, filters and the list view."""

from kazoodesk.ui.devices.device_list_view import DeviceListView
from kazoodesk.ui.devices.device_records import UNASSIGNED, hotdesk_flags
from kazoodesk.ui.devices.device_table_model import DeviceTableModel

__all__ = ["UNASSIGNED", "DeviceListView", "DeviceTableModel", "hotdesk_flags"]
