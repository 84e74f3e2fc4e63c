"""HubSpot CRM connector (``hubspot``)."""

from connectors.hubspot.connector import HubSpotConfig, HubSpotConnector

__all__ = ["HubSpotConfig", "HubSpotConnector"]
