"""Error classification of the SQL connector: a database error becomes the SDK's error class (transient,
auth, config, permanent), with a message that carries no secret and no bound value."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exc as sa_exc

from connectors.errors import AuthError, ConfigError, ConnectorError, PermanentError, TransientError

__all__ = ["classify", "translate"]


def translate(exc: sa_exc.SQLAlchemyError, action: str, *, redact: Callable[[str], str]) -> ConnectorError:
    """Map a database error to the SDK's error classes, with secrets and bound values left out."""
    orig = getattr(exc, "orig", None)
    detail = str(orig) if orig is not None else str(exc).split("\n(Background", 1)[0]
    # First line only: later lines (PostgreSQL DETAIL, SQLAlchemy's [SQL: ...]) may quote data.
    detail = (detail.strip().splitlines() or [type(exc).__name__])[0]
    message = redact(f"{action} failed: {detail}")
    cls = classify(exc, orig)
    return cls(message)


# PostgreSQL SQLSTATE classes and codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
_PG_TRANSIENT_PREFIXES = ("08", "40", "53", "57", "58", "55P03", "HY")
_PG_AUTH = ("28", "42501")
_PG_CONFIG = ("3D", "3F", "42P01", "42703", "42883")
# MySQL/MariaDB server and client error numbers.
_MYSQL_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 2002, 2003, 2005, 2006, 2013, 2055, 1927, 3024}
_MYSQL_AUTH = {1044, 1045, 1142, 1143, 1227, 1698}
_MYSQL_CONFIG = {1049, 1146, 1054, 1051}


def classify(exc: sa_exc.SQLAlchemyError, orig: object) -> type[ConnectorError]:
    """The SDK error class for a database error: transient (retry), auth, config or permanent."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return TransientError
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return TransientError
    module = type(orig).__module__
    if module.startswith(("pymysql", "MySQLdb")):  # they carry a SQLSTATE too, but the number is finer
        args = getattr(orig, "args", ())
        code = args[0] if args and isinstance(args[0], int) else None
        if code in _MYSQL_AUTH:
            return AuthError
        if code in _MYSQL_CONFIG:
            return ConfigError
        if code in _MYSQL_TRANSIENT or code is None:
            return TransientError
        return PermanentError
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate.startswith(_PG_AUTH):
            return AuthError
        if sqlstate.startswith(_PG_CONFIG):
            return ConfigError
        if sqlstate.startswith(_PG_TRANSIENT_PREFIXES):
            return TransientError
        return PermanentError
    if module.startswith("psycopg"):  # refused before a session exists: no SQLSTATE, only the text
        text = str(orig)
        if "password authentication failed" in text or ("role" in text and "does not exist" in text):
            return AuthError
        if "database" in text and "does not exist" in text:
            return ConfigError
    name = type(orig).__name__
    if "duckdb" in module:
        if name in {"IOException", "ConnectionException", "TransactionException", "InterruptException"}:
            return TransientError
        if name in {"CatalogException", "BinderException"}:
            return ConfigError
        if name == "PermissionException":
            return AuthError
        return PermanentError
    if module.startswith("sqlite3"):
        text = str(orig).lower()
        if "locked" in text or "busy" in text or "disk i/o" in text:
            return TransientError
        if "no such table" in text or "no such column" in text or "unable to open" in text:
            return ConfigError
        if "readonly" in text or "permission" in text:
            return AuthError
        return PermanentError
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return TransientError  # lost connections, timeouts, deadlocks for drivers not handled above
    if isinstance(exc, sa_exc.NoSuchTableError):
        return ConfigError
    return PermanentError
