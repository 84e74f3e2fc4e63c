"""Where connector classes are found: the built-ins plus the ``dsr.connectors`` entry-point group.

A third-party package registers its connector in its own ``pyproject.toml``::

    [project.entry-points."dsr.connectors"]
    acme = "acme_dsr.connector:AcmeConnector"

Every class is validated when the registry loads, so a broken plug-in is reported at start-up,
not in the middle of a request.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata

from pydantic import BaseModel

from connectors.base import Capability, Connector, ConnectorConfig

ENTRY_POINT_GROUP = "dsr.connectors"

BUILTINS: dict[str, str] = {
    "sql": "connectors.sql.connector:SQLConnector",
    "stripe": "connectors.stripe.connector:StripeConnector",
    "klaviyo": "connectors.klaviyo.connector:KlaviyoConnector",
    "salesforce": "connectors.salesforce.connector:SalesforceConnector",
    "hubspot": "connectors.hubspot.connector:HubSpotConnector",
    "mailchimp": "connectors.mailchimp.connector:MailchimpConnector",
    "manual": "connectors.manual.connector:ManualConnector",
    "vendor_email": "connectors.vendor_email.connector:VendorEmailConnector",
}


class RegistryError(Exception):
    """A connector class could not be loaded or is not a valid connector."""


def _load(path: str) -> object:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def validate(cls: object) -> list[str]:
    """Return the problems that make ``cls`` unusable as a connector (empty when it is fine)."""
    if not isinstance(cls, type) or not issubclass(cls, Connector):
        return [f"{cls!r} is not a subclass of connectors.Connector"]
    problems = []
    for attr in ("key", "label", "category"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value:
            problems.append(f"{cls.__name__}.{attr} must be a non-empty string")
    if not cls.capabilities or not all(isinstance(c, Capability) for c in cls.capabilities):
        problems.append(f"{cls.__name__}.capabilities must be a non-empty set of Capability")
    if not (isinstance(cls.Config, type) and issubclass(cls.Config, BaseModel)):
        problems.append(f"{cls.__name__}.Config must be a pydantic model")
    elif not issubclass(cls.Config, ConnectorConfig):
        problems.append(f"{cls.__name__}.Config must subclass connectors.ConnectorConfig")
    if Capability.ACCESS in cls.capabilities and cls.access is Connector.access:
        problems.append(f"{cls.__name__} declares access but does not implement access()")
    if Capability.ERASE in cls.capabilities and cls.erase is Connector.erase:
        problems.append(f"{cls.__name__} declares erase but does not implement erase()")
    if Capability.OPT_OUT in cls.capabilities and cls.opt_out is Connector.opt_out:
        problems.append(f"{cls.__name__} declares opt_out but does not implement opt_out()")
    return problems


@functools.cache
def available() -> dict[str, type[Connector]]:
    """All valid connector classes by key. Raises ``RegistryError`` listing every broken one."""
    found: dict[str, type[Connector]] = {}
    errors: list[str] = []
    sources: list[tuple[str, str]] = list(BUILTINS.items())
    sources += [(ep.name, ep.value) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    for name, path in sources:
        try:
            cls = _load(path)
        except Exception as exc:  # an import error in a plug-in must name the plug-in
            errors.append(f"{name} ({path}): cannot import: {exc}")
            continue
        problems = validate(cls)
        if problems:
            errors.extend(f"{name} ({path}): {p}" for p in problems)
            continue
        assert isinstance(cls, type)
        assert issubclass(cls, Connector)
        if cls.key != name:
            errors.append(f"{name} ({path}): registered as {name!r} but its key is {cls.key!r}")
            continue
        if name in found and found[name] is not cls:
            errors.append(f"{name}: registered twice ({found[name].__module__} and {cls.__module__})")
            continue
        found[name] = cls
    if errors:
        raise RegistryError("; ".join(errors))
    return found


def get(key: str) -> type[Connector]:
    """The connector class registered as ``key``."""
    try:
        return available()[key]
    except KeyError:
        known = ", ".join(sorted(available())) or "none"
        raise RegistryError(f"no connector {key!r} is registered (known: {known})") from None
