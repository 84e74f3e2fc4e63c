"""Acme CRM connector for DSR Hub (``acme_crm``)."""

from dsr_acme_crm.connector import AcmeCrmConfig, AcmeCrmConnector

__all__ = ["AcmeCrmConfig", "AcmeCrmConnector"]
