"""Tasks done by people for hand-off connectors (``manual``, ``vendor_email``)."""
