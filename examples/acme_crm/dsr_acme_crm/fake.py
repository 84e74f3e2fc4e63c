"""A fake Acme CRM API on 127.0.0.1 for tests: the paths and payloads of README.md.

Built on :class:`connectors.testing.server.FakeServer` (routes, a request log, ``mutation_count``
and the conformance kit's fault injection). Matching is exact on the lower-cased address, as most
vendors do; the connector re-checks it anyway.
"""

from __future__ import annotations

from typing import Any

from connectors.testing.server import (
    FakeServer,
    Request,
    Response,
    bearer_auth,
    empty_response,
    json_response,
)

GOOD_KEY = "acme_crm-test-key-0123456789abcdef"


class FakeAcmeCrm(FakeServer):
    def __init__(self, api_key: str = GOOD_KEY) -> None:
        super().__init__(auth=bearer_auth(api_key), name="acme_crm")
        self.contacts: dict[str, dict[str, Any]] = {}
        self._next_id = 1
        self.add_route("GET", "/v1/me", self._me)
        self.add_route("GET", "/v1/contacts", self._list)
        self.add_route("DELETE", "/v1/contacts/{id}", self._delete)

    def add_contact(self, **fields: Any) -> dict[str, Any]:
        with self.lock:
            contact = {"id": f"c{self._next_id}", **fields}
            self._next_id += 1
            self.contacts[contact["id"]] = contact
            return contact

    def with_email(self, email: str) -> list[dict[str, Any]]:
        with self.lock:
            wanted = email.strip().lower()
            return [dict(c) for c in self.contacts.values() if str(c.get("email", "")).lower() == wanted]

    def _me(self, req: Request) -> Response:
        return json_response({"account": "test"})

    def _list(self, req: Request) -> Response:
        email = (req.arg("email") or "").strip().lower()
        limit = int(req.arg("limit") or "100")
        cursor = req.arg("cursor")
        offset = int(cursor) if cursor else 0
        matches = [c for c in self.contacts.values() if str(c.get("email", "")).lower() == email]
        following = str(offset + limit) if offset + limit < len(matches) else None
        if cursor and self.take_flag("repeated_cursor"):
            following = cursor  # a broken vendor handing back the cursor it was given
        return json_response({"results": matches[offset : offset + limit], "next_cursor": following})

    def _delete(self, req: Request) -> Response:
        if self.contacts.pop(req.params["id"], None) is None:
            return json_response({"message": "contact not found"}, status=404)
        return empty_response(204)
