"""A fake Klaviyo API (profiles + data-privacy deletion jobs) on 127.0.0.1.

Reproduces what the Klaviyo connector relies on, checked against ``klaviyo/openapi``
(``openapi/stable/apis/get_profiles.json``, ``request_profile_deletion.json``):

- Headers: ``Authorization: Klaviyo-API-Key <private key>`` (else 401 ``not_authenticated``) and a
  ``revision: YYYY-MM-DD[.suffix]`` header, which is required (else 400).
- Errors: JSON:API ``{"errors": [{id, status, code, title, detail, source?}]}``; a 429 carries
  ``Retry-After``.
- ``GET /api/profiles?filter=equals(email,"...")&page[size]=N&page[cursor]=...``:
  ``{data: [{type: "profile", id, attributes: {...}, links: {self}}], links: {self, next?, prev?}}``,
  ``page[size]`` 1..100 (default 20), ``links.next`` an absolute URL carrying ``page[cursor]``.
  Filters understood: ``equals(email,"x")``, ``equals(id,"x")``, ``any(id,["a","b"])``. Email matching is
  case-insensitive (Klaviyo treats a profile's email case-insensitively - see the connector README).
- ``GET /api/profiles/{id}``: the profile or 404.
- ``POST /api/data-privacy-deletion-jobs`` with ``{data: {type: "data-privacy-deletion-job",
  attributes: {profile: {data: {type: "profile", attributes: {email | phone_number} | id}}}}}``:
  exactly one identifier, else 400. Answers **202 with no body** - Klaviyo exposes no job id and no
  job-status endpoint. The job runs later: it deletes every matching profile after ``job_steps``
  calls to :meth:`FakeKlaviyo.advance` (the test clock), then the profile is gone from ``/api/profiles``
  and listed in :attr:`FakeKlaviyo.deleted_profiles` (Klaviyo's "Deleted Profiles" page).
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from connectors.testing.server import FakeServer, Request, Response, json_response

DEFAULT_KEY = "pk_FakeKlaviyoPrivateKey0123456789abcdef"
JSONAPI = "application/vnd.api+json"
_REVISION = re.compile(r"^\d{4}-\d{2}-\d{2}(?:\.[a-z]+)?$")
_FILTER = re.compile(r"^(equals|any)\((email|id|phone_number),(.*)\)$", re.S)


def klaviyo_error(status: int, detail: str, *, code: str | None = None, title: str | None = None) -> Response:
    defaults = {
        400: ("invalid", "Invalid input."),
        401: ("not_authenticated", "Authentication credentials were not provided."),
        403: ("permission_denied", "You do not have permission to perform this action."),
        404: ("not_found", "Not found."),
        405: ("method_not_allowed", "Method not allowed."),
        429: ("throttled", "Request was throttled."),
    }
    default_code, default_title = defaults.get(status, ("error", "A server error occurred."))
    error = {
        "id": str(uuid.uuid4()),
        "status": status,
        "code": code or default_code,
        "title": title or default_title,
        "detail": detail,
        "source": {"pointer": "/data/"},
    }
    return json_response({"errors": [error]}, status=status, content_type=JSONAPI)


def _parse_values(raw: str) -> list[str]:
    raw = raw.strip()
    values = json.loads(raw) if raw.startswith("[") else [json.loads(raw)]
    if not all(isinstance(v, str) for v in values):
        raise ValueError("values must be strings")
    return values


@dataclass
class DeletionJob:
    kind: str  # email | phone_number | id
    value: str
    steps_left: int
    done: bool = False
    deleted: int = 0


class FakeKlaviyo(FakeServer):
    """The fake account. Seed with :meth:`add_profile`; move deletion jobs with :meth:`advance`."""

    def __init__(self, *, key: str = DEFAULT_KEY, job_steps: int = 2, timeout_delay: float = 1.5) -> None:
        super().__init__(
            auth=lambda req: req.header("authorization") == f"Klaviyo-API-Key {key}",
            error_body=klaviyo_error,
            timeout_delay=timeout_delay,
            name="klaviyo",
        )
        self.key = key
        self.job_steps = job_steps
        self.profiles: dict[str, dict[str, Any]] = {}
        self.jobs: list[DeletionJob] = []
        self.deleted_profiles: list[dict[str, Any]] = []
        self._cursors: dict[str, int] = {}
        self._seq = itertools.count(1)
        self.add_route("GET", "/api/profiles", self._revisioned(self._list_profiles))
        self.add_route("GET", "/api/profiles/{id}", self._revisioned(self._get_profile))
        self.add_route("POST", "/api/data-privacy-deletion-jobs", self._revisioned(self._create_job))

    # -- seeding, the clock, inspection ------------------------------------------------------------
    def add_profile(self, email: str | None, **attributes: Any) -> str:
        profile_id = f"01FK{next(self._seq):022d}"
        self.profiles[profile_id] = {
            "email": email,
            "phone_number": None,
            "external_id": None,
            "first_name": None,
            "last_name": None,
            "organization": None,
            "locale": None,
            "title": None,
            "image": None,
            "created": "2025-01-01T00:00:00+00:00",
            "updated": "2025-01-01T00:00:00+00:00",
            "last_event_date": None,
            "location": {"address1": None, "city": None, "country": None, "zip": None, "timezone": None},
            "properties": {},
            **attributes,
        }
        return profile_id

    def advance(self) -> None:
        """One tick of the vendor's clock: pending deletion jobs move one step, finished ones run."""
        for job in self.jobs:
            if job.done:
                continue
            job.steps_left -= 1
            if job.steps_left <= 0:
                self._run(job)

    def complete_jobs(self) -> None:
        for job in self.jobs:
            if not job.done:
                self._run(job)

    @property
    def pending_jobs(self) -> list[DeletionJob]:
        return [job for job in self.jobs if not job.done]

    def _run(self, job: DeletionJob) -> None:
        # "All profiles that match the provided identifier will be deleted."
        for profile_id in [
            pid for pid, p in self.profiles.items() if self._matches(pid, p, job.kind, [job.value])
        ]:
            self.deleted_profiles.append({"id": profile_id, "email": self.profiles[profile_id]["email"]})
            del self.profiles[profile_id]
            job.deleted += 1
        job.done = True

    @staticmethod
    def _matches(profile_id: str, profile: dict[str, Any], field: str, values: list[str]) -> bool:
        if field == "id":
            return profile_id in values
        stored = profile.get(field)
        if not isinstance(stored, str):
            return False
        if field == "email":
            return stored.lower() in {v.lower() for v in values}
        return stored in values

    # -- plumbing -----------------------------------------------------------------------------------
    def _revisioned(self, handler: Any) -> Any:
        def wrapped(req: Request) -> Response:
            revision = req.header("revision")
            if not revision:
                return klaviyo_error(400, "Missing required header 'revision'.", code="missing_revision")
            if not _REVISION.match(revision):
                return klaviyo_error(400, f"Invalid revision '{revision}'.", code="invalid_revision")
            return handler(req)  # type: ignore[no-any-return]

        return wrapped

    def _resource(self, profile_id: str) -> dict[str, Any]:
        return {
            "type": "profile",
            "id": profile_id,
            "attributes": dict(self.profiles[profile_id]),
            "relationships": {},
            "links": {"self": f"{self.url}/api/profiles/{profile_id}/"},
        }

    # -- routes ---------------------------------------------------------------------------------------
    def _list_profiles(self, req: Request) -> Response:
        raw_filter = req.arg("filter")
        ids = list(self.profiles)
        if raw_filter:
            match = _FILTER.match(raw_filter.strip())
            if not match:
                return klaviyo_error(400, f"Invalid filter provided: {raw_filter}", code="invalid_filter")
            op, field, raw_values = match.groups()
            try:
                values = _parse_values(raw_values)
            except ValueError:
                return klaviyo_error(400, f"Invalid filter provided: {raw_filter}", code="invalid_filter")
            if (op == "equals") != (len(values) == 1 and not raw_values.strip().startswith("[")):
                return klaviyo_error(400, f"Invalid filter provided: {raw_filter}", code="invalid_filter")
            ids = [pid for pid in ids if self._matches(pid, self.profiles[pid], field, values)]
        try:
            size = int(req.arg("page[size]") or 20)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return klaviyo_error(400, "page[size] must be between 1 and 100.", code="invalid")
        offset = 0
        cursor = req.arg("page[cursor]")
        if cursor:
            if cursor not in self._cursors:
                return klaviyo_error(400, "Invalid page cursor.", code="invalid")
            offset = self._cursors[cursor]
            if self.take_flag("repeated_cursor"):
                # A broken vendor: the next link points back at the page just served.
                return self._collection(req, ids[offset : offset + size], next_cursor=cursor)
        page = ids[offset : offset + size]
        next_cursor = None
        if offset + size < len(ids):
            next_cursor = f"bmV4dDo{next(self._seq):08d}"
            self._cursors[next_cursor] = offset + size
        return self._collection(req, page, next_cursor=next_cursor)

    def _collection(self, req: Request, page: list[str], *, next_cursor: str | None) -> Response:
        links: dict[str, Any] = {"self": self.url + req.raw_path, "next": None, "prev": None}
        if next_cursor:
            query = {k: v[0] for k, v in req.query.items()}
            query["page[cursor]"] = next_cursor
            links["next"] = f"{self.url}{req.path}?{urllib.parse.urlencode(query)}"
        return json_response(
            {"data": [self._resource(pid) for pid in page], "links": links}, content_type=JSONAPI
        )

    def _get_profile(self, req: Request) -> Response:
        profile_id = req.params["id"].rstrip("/")
        if profile_id not in self.profiles:
            return klaviyo_error(404, f"A profile with id {profile_id} does not exist.")
        return json_response({"data": self._resource(profile_id)}, content_type=JSONAPI)

    def _create_job(self, req: Request) -> Response:
        if JSONAPI not in (req.header("content-type") or "") and "application/json" not in (
            req.header("content-type") or ""
        ):
            return klaviyo_error(415, "Unsupported media type.", code="unsupported_media_type")
        try:
            body = req.json()
            data = body["data"]
            if data["type"] != "data-privacy-deletion-job":
                raise ValueError("type")
            profile = data["attributes"]["profile"]["data"]
            if profile["type"] != "profile":
                raise ValueError("profile type")
            attributes = profile.get("attributes") or {}
        except (ValueError, KeyError, TypeError):
            return klaviyo_error(400, "Invalid input.", code="invalid")
        identifiers = {k: v for k, v in attributes.items() if k in ("email", "phone_number") and v}
        if profile.get("id"):
            identifiers["id"] = profile["id"]
        if len(identifiers) != 1:
            return klaviyo_error(
                400, "Exactly one of email, phone_number or id must be provided.", code="invalid"
            )
        ((kind, value),) = identifiers.items()
        self.jobs.append(DeletionJob(kind=kind, value=str(value), steps_left=self.job_steps))
        if self.job_steps <= 0:
            self._run(self.jobs[-1])
        return Response(status=202)
