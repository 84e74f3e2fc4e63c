"""The SQL warehouse connector (key ``sql``); see README.md in this folder."""

from connectors.sql.connector import SQLConfig, SQLConnector

__all__ = ["SQLConfig", "SQLConnector"]
