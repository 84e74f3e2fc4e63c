"""The ``Connector`` base class every connector subclasses.

A connector is a small class with a pydantic ``Config`` and these operations: ``check()``,
``access(subject)`` (a read-only stream of records), ``erase(subject)`` (idempotent, honours
``dry_run``), ``opt_out(subject)`` (unsubscribe/suppress, idempotent, honours ``dry_run``) and, for
vendors that delete asynchronously, ``poll(handle)``.
It raises only the errors of :mod:`connectors.errors` and never imports Django.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from connectors.errors import ConfigError, PermanentError
from connectors.outbound import HostPolicy, parse_allow_hosts
from connectors.types import CheckResult, ErasureResult, JobHandle, Record, Subject


class Capability(enum.StrEnum):
    ACCESS = "access"
    ERASE = "erase"
    CORRECT = "correct"
    OPT_OUT = "opt_out"


class ConnectorConfig(BaseModel):
    """Base of every connector's ``Config``. Mark secrets with ``pydantic.SecretStr``.

    Unknown keys are refused so that a typo in a systems file is an error, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def secret_fields(cls) -> list[str]:
        """Names of the fields typed ``SecretStr`` (stored encrypted, never logged)."""
        return [
            name
            for name, info in cls.model_fields.items()
            if info.annotation is SecretStr or info.annotation == (SecretStr | None)
        ]


def format_validation_error(error: ValidationError) -> str:
    """Turn a pydantic error into one readable line per problem (``tables.0.name: field required``)."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "config"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


class Connector:
    """Base class. Subclasses set the class attributes and implement the operations they declare."""

    key: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[str]  # warehouse, crm, email, payments, manual, ...
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    #: The hosts this connector may send requests to: exact names or ``*.suffix`` patterns (see
    #: :mod:`connectors.outbound`). Pass ``policy=self.outbound`` to every ``HttpClient``.
    allowed_hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: ConnectorConfig | Mapping[str, Any],
        *,
        dry_run: bool = False,
        logger: logging.Logger | None = None,
        outbound_allow: str | Iterable[str] = (),
    ) -> None:
        """``outbound_allow``: the operator's extra hosts (``DSR_OUTBOUND_ALLOW_HOSTS``), passed in
        by the platform; tests against local fakes pass ``"127.0.0.1,localhost"``."""
        try:
            allow = parse_allow_hosts(outbound_allow)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.outbound = HostPolicy(hosts=self.allowed_hosts, allow=allow, vendor=self.key)
        if isinstance(config, ConnectorConfig):
            if not isinstance(config, self.Config):
                raise ConfigError(f"{type(self).__name__} needs a {self.Config.__name__}")
            self.config = config
        else:
            try:
                self.config = self.Config.model_validate(dict(config))
            except ValidationError as exc:
                raise ConfigError(f"invalid {self.key} config: {format_validation_error(exc)}") from None
        self.dry_run = dry_run
        self.log = logger or logging.getLogger(f"connectors.{self.key}")

    @classmethod
    def configured_urls(cls, config: ConnectorConfig) -> list[str]:
        """The URLs a validated ``config`` points this connector at (``base_url`` by default), so the
        platform can refuse a host outside :attr:`allowed_hosts` when the config is applied."""
        value = getattr(config, "base_url", None)
        return [value] if isinstance(value, str) and value else []

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release connections. Called once the platform is done with the instance."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations --------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Test connectivity and credentials. Returns a failed result rather than raising."""
        return CheckResult(ok=True, message="no check implemented")

    def access(self, subject: Subject) -> Iterator[Record]:
        """Yield every record held about ``subject``; read-only."""
        raise PermanentError(f"{self.key} does not support access")

    def erase(self, subject: Subject) -> ErasureResult | JobHandle:
        """Erase ``subject``'s records. Idempotent: a second call finds nothing and changes nothing.

        With ``self.dry_run`` set, report what would be erased and write nothing.
        """
        raise PermanentError(f"{self.key} does not support erasure")

    def opt_out(self, subject: Subject) -> ErasureResult:
        """Stop selling/sharing ``subject``'s data or sending them direct marketing (CCPA §7026,
        GDPR Art. 21(3)): unsubscribe or suppress, keeping the record that makes the choice stick.

        Declare ``Capability.OPT_OUT`` to have the platform call it for ``opt_out`` and
        ``marketing`` requests. Return ``method=ErasureMethod.SUPPRESSED`` (``NONE`` when nothing
        matched): ``found`` records matched the subject, ``erased`` of them were newly suppressed or
        unsubscribed. Idempotent: a second call finds the same records and reports ``erased=0``.
        With ``self.dry_run`` set, report what would be suppressed and write nothing.
        """
        raise PermanentError(f"{self.key} does not support opt-out")

    def erase_many(self, subjects: Iterable[Subject]) -> list[ErasureResult | JobHandle]:
        """Erase several subjects. Override with a set-based version where the backend allows it."""
        return [self.erase(subject) for subject in subjects]

    def poll(self, handle: JobHandle) -> ErasureResult | JobHandle:
        """Return the result of an asynchronous job, or a handle again if it is still running."""
        raise PermanentError(f"{self.key} does not run asynchronous jobs")

    def secret_values(self) -> list[str]:
        """The plain values of this instance's secrets, so that logs and errors can be scrubbed."""
        values = []
        for name in self.Config.secret_fields():
            secret = getattr(self.config, name, None)
            if isinstance(secret, SecretStr) and secret.get_secret_value():
                values.append(secret.get_secret_value())
        return values

    def redact(self, text: str) -> str:
        """Replace every secret value of this instance in ``text`` by ``***``."""
        for value in self.secret_values():
            text = text.replace(value, "***")
        return text
