"""A fake Mailchimp Marketing API 3.0 (lists, list members, update, permanent delete) on a local port.

Reproduces, from Mailchimp's public reference:

- Basic auth with any username and the API key as password. The key ends with ``-<dc>``; a key
  for another data center is refused with 401 (``API Key Invalid``, "... wrong datacenter").
- Errors are ``application/problem+json``: ``{type, title, status, detail, instance}``.
- ``GET /3.0/ping`` -> ``{"health_status": "Everything's Chimpy!"}``.
- ``GET /3.0/lists?count=&offset=`` (default 10, max 1000) -> ``{lists, total_items, constraints,
  _links}``.
- ``GET /3.0/lists/{list_id}/members/{subscriber_hash}`` where the hash is the MD5 of the
  lower-cased email; 404 when the address is not on the list (archived members are returned with
  ``status: "archived"``). An uppercase or malformed hash is not found.
- ``PATCH /3.0/lists/{id}/members/{hash}`` updates a member (``status`` must be one of
  ``subscribed``, ``unsubscribed``, ``cleaned``, ``pending``, ``transactional``; anything else is a
  400 ``Invalid Resource`` with an ``errors`` array) and returns the member; 404 when not a member.
  The member's ``status`` is part of every member response.
- ``DELETE /3.0/lists/{id}/members/{hash}`` only **archives** (204).
- ``POST /3.0/lists/{id}/members/{hash}/actions/delete-permanent`` -> 204; the member is gone and
  the address is "forgotten" (re-adding it is refused with 400 ``Forgotten Email Not Subscribed``).
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from connectors.testing.server import FakeServer, Request, Response, basic_auth, empty_response, json_response

ERROR_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
TITLES = {
    400: "Invalid Resource",
    401: "API Key Invalid",
    403: "Forbidden",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
MAX_COUNT = 1000
MEMBER_STATUSES = frozenset({"subscribed", "unsubscribed", "cleaned", "pending", "transactional"})
TIMESTAMP = "2026-01-15T10:00:00+00:00"


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


def mailchimp_error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Response:
    detail = message
    if status == 401:
        detail = "Your API key may be invalid, or you've attempted to access the wrong datacenter."
    body: dict[str, Any] = {
        "type": ERROR_DOC,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status, content_type="application/problem+json")


@dataclass
class Member:
    email_address: str
    list_id: str
    merge_fields: dict[str, str]
    status: str = "subscribed"
    tags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hash(self) -> str:
        return subscriber_hash(self.email_address)

    def to_api(self) -> dict[str, Any]:
        first = self.merge_fields.get("FNAME", "")
        last = self.merge_fields.get("LNAME", "")
        return {
            "id": self.hash,
            "email_address": self.email_address,
            "unique_email_id": self.hash[:10],
            "contact_id": self.hash[10:30],
            "full_name": f"{first} {last}".strip(),
            "web_id": int(self.hash[:6], 16),
            "email_type": "html",
            "status": self.status,
            "merge_fields": dict(self.merge_fields),
            "interests": {},
            "stats": {"avg_open_rate": 0.5, "avg_click_rate": 0.1},
            "ip_signup": "203.0.113.7",
            "timestamp_signup": TIMESTAMP,
            "ip_opt": "203.0.113.7",
            "timestamp_opt": TIMESTAMP,
            "member_rating": 2,
            "last_changed": TIMESTAMP,
            "language": "en",
            "vip": False,
            "email_client": "",
            "location": {
                "latitude": 0,
                "longitude": 0,
                "gmtoff": 0,
                "dstoff": 0,
                "country_code": "",
                "timezone": "",
            },
            "marketing_permissions": [],
            "source": "API - Generic",
            "tags_count": len(self.tags),
            "tags": list(self.tags),
            "list_id": self.list_id,
            "_links": [],
        }


@dataclass
class MailingList:
    id: str
    name: str
    members: dict[str, Member] = field(default_factory=dict)  # by subscriber hash
    forgotten: set[str] = field(default_factory=set)  # hashes permanently deleted

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "web_id": int(hashlib.md5(self.id.encode(), usedforsecurity=False).hexdigest()[:6], 16),
            "name": self.name,
            "permission_reminder": "You signed up on our website.",
            "date_created": TIMESTAMP,
            "list_rating": 3,
            "stats": {"member_count": sum(m.status == "subscribed" for m in self.members.values())},
            "_links": [],
        }


class FakeMailchimp(FakeServer):
    """The fake for data center ``dc``; ``api_key`` must end with ``-<dc>``."""

    def __init__(
        self, api_key: str = "0123456789abcdef0123456789abcdef-us6", *, timeout_delay: float = 1.5
    ) -> None:
        self.api_key = api_key
        self.dc = api_key.rsplit("-", 1)[-1]
        super().__init__(
            auth=basic_auth(api_key),
            error_body=mailchimp_error,
            timeout_delay=timeout_delay,
            name="mailchimp",
        )
        self.lists: dict[str, MailingList] = {}
        self._ids = itertools.count(1)
        self.add_route(
            "GET", "/3.0/ping", lambda req: json_response({"health_status": "Everything's Chimpy!"})
        )
        self.add_route("GET", "/3.0/lists", self._lists)
        self.add_route("GET", "/3.0/lists/{list_id}/members/{hash}", self._get_member)
        self.add_route("PATCH", "/3.0/lists/{list_id}/members/{hash}", self._update_member)
        self.add_route("DELETE", "/3.0/lists/{list_id}/members/{hash}", self._archive_member)
        self.add_route(
            "POST", "/3.0/lists/{list_id}/members/{hash}/actions/delete-permanent", self._delete_permanent
        )
        self.add_route("POST", "/3.0/lists/{list_id}/members", self._add_member)

    # -- seeding / inspection -------------------------------------------------------------------
    def add_list(self, name: str) -> MailingList:
        with self.lock:
            list_id = f"{next(self._ids):04x}a1b2c3"
            self.lists[list_id] = MailingList(id=list_id, name=name)
            return self.lists[list_id]

    def add_member(self, list_id: str, email: str, status: str = "subscribed", **merge_fields: str) -> Member:
        with self.lock:
            mailing_list = self.lists[list_id]
            member = Member(
                email_address=email, list_id=list_id, merge_fields=dict(merge_fields), status=status
            )
            if member.hash in mailing_list.members:
                raise ValueError(f"{email} is already a member of {list_id}")
            mailing_list.members[member.hash] = member
            return member

    def members_with_email(self, email: str) -> list[Member]:
        wanted = subscriber_hash(email.strip())
        with self.lock:
            return [ml.members[wanted] for ml in self.lists.values() if wanted in ml.members]

    # -- routes ---------------------------------------------------------------------------------
    def _lists(self, req: Request) -> Response:
        try:
            count = int(req.arg("count", "10") or 10)
            offset = int(req.arg("offset", "0") or 0)
        except ValueError:
            return mailchimp_error(400, "count and offset must be integers")
        if count > MAX_COUNT or count < 1 or offset < 0:
            return mailchimp_error(400, f"count must be between 1 and {MAX_COUNT}; offset must be >= 0")
        if offset > 0 and self.take_flag("repeated_cursor"):
            offset = 0  # the vendor bug: offset ignored, the first page again
        ordered = list(self.lists.values())
        page = ordered[offset : offset + count]
        return json_response(
            {
                "lists": [ml.to_api() for ml in page],
                "total_items": len(ordered),
                "constraints": {
                    "may_create": True,
                    "max_instances": 10000,
                    "current_total_instances": len(ordered),
                },
                "_links": [],
            }
        )

    def _find(self, req: Request) -> tuple[MailingList | None, Member | None]:
        mailing_list = self.lists.get(req.params["list_id"])
        if mailing_list is None:
            return None, None
        return mailing_list, mailing_list.members.get(req.params["hash"])

    def _get_member(self, req: Request) -> Response:
        _, member = self._find(req)
        if member is None:
            return mailchimp_error(404, "The requested resource could not be found.")
        return json_response(member.to_api())

    def _update_member(self, req: Request) -> Response:
        _, member = self._find(req)
        if member is None:
            return mailchimp_error(404, "The requested resource could not be found.")
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return mailchimp_error(400, "We encountered an unspecified JSON parsing error.")
        if "status" in body and body["status"] not in MEMBER_STATUSES:
            return mailchimp_error(
                400,
                "The resource submitted could not be validated. "
                "For field-specific details, see the 'errors' array.",
                errors=[
                    {
                        "field": "status",
                        "message": "Data did not match any of the schemas described in anyOf.",
                    }
                ],
            )
        if "status" in body:
            member.status = str(body["status"])
        if isinstance(body.get("merge_fields"), dict):
            member.merge_fields.update({str(k): str(v) for k, v in body["merge_fields"].items()})
        return json_response(member.to_api())

    def _archive_member(self, req: Request) -> Response:
        _, member = self._find(req)
        if member is None:
            return mailchimp_error(404, "The requested resource could not be found.")
        member.status = "archived"
        return empty_response(204)

    def _delete_permanent(self, req: Request) -> Response:
        mailing_list, member = self._find(req)
        if mailing_list is None or member is None:
            return mailchimp_error(404, "The requested resource could not be found.")
        del mailing_list.members[member.hash]
        mailing_list.forgotten.add(member.hash)
        return empty_response(204)

    def _add_member(self, req: Request) -> Response:
        mailing_list = self.lists.get(req.params["list_id"])
        if mailing_list is None:
            return mailchimp_error(404, "The requested resource could not be found.")
        body = req.json() or {}
        email = str(body.get("email_address", ""))
        if subscriber_hash(email) in mailing_list.forgotten:
            return mailchimp_error(
                400,
                f"{email} was permanently deleted and cannot be re-imported. "
                "The contact must re-subscribe to get back on the list.",
            )
        if subscriber_hash(email) in mailing_list.members:
            return mailchimp_error(400, f"{email} is already a list member.")
        member = Member(
            email_address=email,
            list_id=mailing_list.id,
            merge_fields=dict(body.get("merge_fields") or {}),
            status=str(body.get("status", "subscribed")),
        )
        mailing_list.members[member.hash] = member
        return json_response(member.to_api())
