"""A fake HubSpot CRM v3 (contacts search, list, properties, GDPR delete) on a local port.

Reproduces, from HubSpot's public docs and its CRM v3 OpenAPI description:

- ``Authorization: Bearer <token>``; a wrong or missing token gets 401 with HubSpot's error
  envelope ``{status: "error", message, correlationId, category}``; a token without the write
  scope gets 403 ``MISSING_SCOPES`` on writes.
- ``POST /crm/v3/objects/contacts/search``: ``filterGroups`` (OR of groups, AND of filters),
  operators ``EQ`` (case-insensitive for ``email``), ``IN``, ``CONTAINS_TOKEN`` (for
  ``hs_additional_emails``, a ``;``-separated list); ``limit`` (default 10, max 200) and ``after``;
  answers ``{total, results:[{id, properties, createdAt, updatedAt, archived}],
  paging:{next:{after, link}}}`` and only the requested properties (plus the defaults). Search can
  lag writes: ``search_lag`` keeps deleted contacts visible to that many searches.
- ``POST /crm/v3/objects/contacts/gdpr-delete`` ``{objectId, idProperty?}`` -> 204 without body.
  By email (``idProperty: "email"``) an unknown address is **added to a blocklist** and 204 is
  returned anyway; by id an unknown contact is 404 ``OBJECT_NOT_FOUND``.
- ``GET /crm/v3/objects/contacts?limit=`` and ``GET /crm/v3/properties/contacts``.
- ``X-HubSpot-RateLimit-*`` headers on non-search endpoints.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.testing.server import FakeServer, Request, Response, empty_response, json_response

DEFAULT_PROPERTIES = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")
KNOWN_PROPERTIES = (
    "address",
    "city",
    "company",
    "country",
    "createdate",
    "email",
    "firstname",
    "hs_additional_emails",
    "hs_object_id",
    "jobtitle",
    "lastmodifieddate",
    "lastname",
    "lifecyclestage",
    "mobilephone",
    "phone",
    "state",
    "website",
    "zip",
)
MAX_SEARCH_LIMIT = 200
TIMESTAMP = "2026-01-15T10:00:00.000Z"


def hubspot_error(status: int, message: str) -> Response:
    category = {
        401: "INVALID_AUTHENTICATION",
        403: "MISSING_SCOPES",
        404: "OBJECT_NOT_FOUND",
        429: "RATE_LIMITS",
        400: "VALIDATION_ERROR",
    }.get(status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if status == 429:
        body["policyName"] = "TEN_SECONDLY_ROLLING"
    return json_response(body, status=status)


@dataclass
class Contact:
    id: str
    properties: dict[str, str]
    archived: bool = False

    def email(self) -> str:
        return self.properties.get("email", "")

    def to_api(self, requested: Iterable[str]) -> dict[str, Any]:
        props = {name: self.properties.get(name) for name in requested}
        props["hs_object_id"] = self.id
        return {
            "id": self.id,
            "properties": props,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "archived": self.archived,
        }


@dataclass
class HubSpotState:
    contacts: dict[str, Contact] = field(default_factory=dict)
    blocklist: set[str] = field(default_factory=set)
    gdpr_deleted: list[str] = field(default_factory=list)
    lagging: dict[str, tuple[Contact, int]] = field(default_factory=dict)  # deleted, still in search


class FakeHubSpot(FakeServer):
    """The fake. ``token`` is accepted with all scopes, ``read_only_token`` without write scope."""

    def __init__(
        self,
        token: str,
        *,
        read_only_token: str | None = None,
        search_lag: int = 0,
        timeout_delay: float = 1.5,
    ) -> None:
        self.token = token
        self.read_only_token = read_only_token
        tokens = {f"Bearer {token}"} | ({f"Bearer {read_only_token}"} if read_only_token else set())
        super().__init__(
            auth=lambda req: req.header("authorization") in tokens,
            error_body=hubspot_error,
            timeout_delay=timeout_delay,
            name="hubspot",
        )
        self.search_lag = search_lag
        self.state = HubSpotState()
        self._ids = itertools.count(101)
        self.add_route("POST", "/crm/v3/objects/contacts/search", self._search, mutating=False)
        self.add_route("POST", "/crm/v3/objects/contacts/gdpr-delete", self._gdpr_delete)
        self.add_route("GET", "/crm/v3/objects/contacts", self._list)
        self.add_route("GET", "/crm/v3/properties/contacts", self._properties)

    # -- seeding / inspection -------------------------------------------------------------------
    def add_contact(self, **properties: str) -> Contact:
        with self.lock:
            contact_id = str(next(self._ids))
            contact = Contact(id=contact_id, properties={"createdate": TIMESTAMP, **properties})
            self.state.contacts[contact_id] = contact
            return contact

    def contacts_with_email(self, email: str) -> list[Contact]:
        wanted = email.strip().lower()
        with self.lock:
            return [c for c in self.state.contacts.values() if c.email().lower() == wanted]

    # -- helpers --------------------------------------------------------------------------------
    def _with_limits(self, resp: Response) -> Response:
        resp.headers.update(
            {
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Remaining": "189",
                "X-HubSpot-RateLimit-Daily": "1000000",
                "X-HubSpot-RateLimit-Daily-Remaining": "999999",
            }
        )
        return resp

    def _can_write(self, req: Request) -> bool:
        return req.header("authorization") == f"Bearer {self.token}"

    @staticmethod
    def _matches(contact: Contact, flt: dict[str, Any]) -> bool:
        name = flt.get("propertyName")
        operator = flt.get("operator")
        value = contact.properties.get(str(name))
        if operator == "EQ":
            return value is not None and value.lower() == str(flt.get("value", "")).lower()
        if operator == "IN":
            wanted = {str(v).lower() for v in flt.get("values", [])}
            return value is not None and value.lower() in wanted
        if operator == "CONTAINS_TOKEN":
            token = str(flt.get("value", "")).lower()
            return value is not None and token in {t.strip().lower() for t in value.split(";")}
        if operator == "HAS_PROPERTY":
            return value is not None
        raise ValueError(f"unsupported operator {operator}")

    # -- routes ---------------------------------------------------------------------------------
    def _search(self, req: Request) -> Response:
        body = req.json() or {}
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > 5:
            return hubspot_error(400, "filterGroups must be a list of at most 5 groups")
        limit = int(body.get("limit") or 10)
        if limit > MAX_SEARCH_LIMIT or limit < 1:
            return hubspot_error(400, f"limit must be between 1 and {MAX_SEARCH_LIMIT}")
        after = str(body.get("after") or "0")
        if not after.isdigit():
            return hubspot_error(400, "after must be a numeric string")
        requested = list(body.get("properties") or DEFAULT_PROPERTIES)
        pool = list(self.state.contacts.values())
        for contact_id, (contact, remaining) in list(self.state.lagging.items()):
            pool.append(contact)
            if remaining <= 1:
                del self.state.lagging[contact_id]
            else:
                self.state.lagging[contact_id] = (contact, remaining - 1)
        try:
            hits = [
                c
                for c in pool
                if not groups or any(all(self._matches(c, f) for f in g.get("filters", [])) for g in groups)
            ]
        except ValueError as exc:
            return hubspot_error(400, str(exc))
        hits.sort(key=lambda c: int(c.id))
        start = int(after)
        page = hits[start : start + limit]
        result: dict[str, Any] = {"total": len(hits), "results": [c.to_api(requested) for c in page]}
        if start + limit < len(hits):
            next_after = str(start + limit)
            if start > 0 and self.take_flag("repeated_cursor"):
                next_after = after  # the vendor bug the client must detect
            result["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{self.url}/crm/v3/objects/contacts/search?after={next_after}",
                }
            }
        return json_response(result)

    def _gdpr_delete(self, req: Request) -> Response:
        if not self._can_write(req):
            return hubspot_error(
                403, "This app hasn't been granted all required scopes: crm.objects.contacts.write"
            )
        body = req.json() or {}
        object_id = body.get("objectId")
        if not isinstance(object_id, str) or not object_id:
            return hubspot_error(400, "objectId is required")
        id_property = body.get("idProperty")
        if id_property == "email":
            found = self.contacts_with_email(object_id)
            if not found:
                self.state.blocklist.add(object_id.lower())  # HubSpot's documented side effect
                return empty_response(204)
            contact = found[0]
        elif id_property is None:
            maybe = self.state.contacts.get(object_id)
            if maybe is None:
                return hubspot_error(404, f"Object not found. objectId are usually numeric. ({object_id})")
            contact = maybe
        else:
            return hubspot_error(400, f"idProperty {id_property} is not a unique property")
        del self.state.contacts[contact.id]
        self.state.gdpr_deleted.append(contact.id)
        if self.search_lag:
            self.state.lagging[contact.id] = (contact, self.search_lag)
        return empty_response(204)

    def _list(self, req: Request) -> Response:
        limit = int(req.arg("limit", "10") or 10)
        contacts = sorted(self.state.contacts.values(), key=lambda c: int(c.id))[:limit]
        return self._with_limits(json_response({"results": [c.to_api(DEFAULT_PROPERTIES) for c in contacts]}))

    def _properties(self, req: Request) -> Response:
        results = [
            {
                "name": name,
                "label": name.replace("_", " ").title(),
                "type": "datetime" if name.endswith("date") else "string",
                "fieldType": "date" if name.endswith("date") else "text",
                "groupName": "contactinformation",
                "hidden": False,
            }
            for name in KNOWN_PROPERTIES
        ]
        return self._with_limits(json_response({"results": results}))
