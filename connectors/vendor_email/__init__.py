"""Processor instruction e-mail connector (``vendor_email``)."""

from connectors.vendor_email.connector import VendorEmailConfig, VendorEmailConnector

__all__ = ["VendorEmailConfig", "VendorEmailConnector"]
