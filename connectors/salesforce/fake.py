"""A fake Salesforce REST API (query + sObject Collections delete) on 127.0.0.1.

Reproduces what the Salesforce connector relies on, from the REST API Developer Guide:

- ``Authorization: Bearer <token>``; a wrong or missing token answers 401
  ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
- ``GET /services/data/vXX.X/query?q=<SOQL>`` answers
  ``{totalSize, done, nextRecordsUrl?, records: [{attributes: {type, url}, <fields>}]}``. Batches are
  ``page_size`` rows (Salesforce: up to 2,000; small here so fixtures span 3+ pages); the next batch is
  ``GET`` on ``nextRecordsUrl`` (``/services/data/vXX.X/query/01g...-<n>``) with no parameters.
- A small but strict SOQL parser: ``SELECT f, ... FROM Obj WHERE Field = 'literal' [LIMIT n]`` and
  ``WHERE Field IN ('a', 'b')``. String literals use backslash escapes (``\\'``, ``\\\\``, ``\\n`` ...);
  an unescaped quote or trailing text is ``400 MALFORMED_QUERY``, an unknown object
  ``INVALID_TYPE``, an unknown field ``INVALID_FIELD``. ``=`` on text is case-insensitive, as in SOQL.
- ``DELETE /services/data/vXX.X/composite/sobjects?ids=a,b&allOrNone=false``: 200 with one result per
  id, in order: ``{id, success: true, errors: []}`` or ``{success: false, errors: [{statusCode,
  message, fields}]}`` (``ENTITY_IS_DELETED`` for a record already in the Recycle Bin,
  ``MALFORMED_ID`` / ``INVALID_CROSS_REFERENCE_KEY`` otherwise). More than 200 ids:
  ``400 EXCEEDED_ID_LIMIT``. ``allOrNone=true`` rolls every record back if one fails.
- Deleted records go to a Recycle Bin (:meth:`FakeSalesforce.recycle_bin`), hidden from ``query``.
- Every response carries ``Sforce-Limit-Info: api-usage=N/M``; past ``api_limit`` calls the org answers
  ``403 REQUEST_LIMIT_EXCEEDED``.
"""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.testing.server import FakeServer, Request, Response, bearer_auth, json_response

DEFAULT_TOKEN = "00Dfake!AQ0AQFakeSalesforceAccessToken"  # noqa: S105  # nosec B105 - the fake org's test token
API_VERSION = "62.0"

SCHEMA: dict[str, dict[str, Any]] = {
    "Contact": {
        "prefix": "003",
        "fields": [
            "Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "MailingStreet",
            "MailingCity", "MailingPostalCode", "MailingCountry", "AccountId", "CreatedDate",
            "LastModifiedDate", "IsDeleted",
        ],
    },
    "Lead": {
        "prefix": "00Q",
        "fields": [
            "Id", "FirstName", "LastName", "Email", "Phone", "Company", "Title", "Street", "City",
            "PostalCode", "Country", "Status", "CreatedDate", "LastModifiedDate", "IsDeleted",
        ],
    },
    "Case": {
        "prefix": "500",
        "fields": ["Id", "Subject", "Status", "SuppliedEmail", "SuppliedName", "CreatedDate", "IsDeleted"],
    },
}  # fmt: skip

_ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


class SOQLSyntaxError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Query:
    fields: list[str]
    sobject: str
    where_field: str | None  # None: no WHERE clause
    values: list[str]
    limit: int | None


_ESCAPES = {"'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"'}
_KEYWORDS = {"SELECT", "FROM", "WHERE", "IN", "LIMIT"}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            out = []
            i += 1
            while True:
                if i >= len(text):
                    raise SOQLSyntaxError("MALFORMED_QUERY", "unexpected end of query in a string literal")
                c = text[i]
                if c == "\\":
                    if i + 1 >= len(text) or text[i + 1] not in _ESCAPES:
                        raise SOQLSyntaxError("MALFORMED_QUERY", "Invalid string literal: illegal escape")
                    out.append(_ESCAPES[text[i + 1]])
                    i += 2
                elif c == "'":
                    i += 1
                    break
                else:
                    out.append(c)
                    i += 1
            tokens.append(("str", "".join(out)))
        elif ch in ",()=":
            tokens.append(("sym", ch))
            i += 1
        elif ch.isalnum() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in "_."):
                j += 1
            word = text[i:j]
            kind = "kw" if word.upper() in _KEYWORDS else ("num" if word.isdigit() else "ident")
            tokens.append((kind, word.upper() if kind == "kw" else word))
            i = j
        else:
            raise SOQLSyntaxError("MALFORMED_QUERY", f"unexpected token: '{ch}'")
    return tokens


def parse_soql(text: str) -> Query:
    """Parse the subset of SOQL the connector uses; anything else is MALFORMED_QUERY."""
    tokens = _tokenize(text)
    pos = 0

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise SOQLSyntaxError("MALFORMED_QUERY", "unexpected end of query")
        k, v = tokens[pos]
        if k != kind or (value is not None and v != value):
            raise SOQLSyntaxError("MALFORMED_QUERY", f"unexpected token: '{v}'")
        pos += 1
        return v

    def peek(value: str) -> bool:
        return pos < len(tokens) and tokens[pos][0] in ("sym", "kw") and tokens[pos][1] == value

    take("kw", "SELECT")
    fields = [take("ident")]
    while peek(","):
        take("sym", ",")
        fields.append(take("ident"))
    take("kw", "FROM")
    sobject = take("ident")
    where_field: str | None = None
    values: list[str] = []
    if peek("WHERE"):
        take("kw", "WHERE")
        where_field = take("ident")
        values = _condition(take, peek)
    limit = None
    if peek("LIMIT"):
        take("kw", "LIMIT")
        limit = int(take("num"))
    if pos != len(tokens):
        raise SOQLSyntaxError("MALFORMED_QUERY", f"unexpected token: '{tokens[pos][1]}'")
    return Query(fields=fields, sobject=sobject, where_field=where_field, values=values, limit=limit)


def _condition(take: Callable[..., str], peek: Callable[[str], bool]) -> list[str]:
    if peek("="):
        take("sym", "=")
        values = [take("str")]
    else:
        take("kw", "IN")
        take("sym", "(")
        values = [take("str")]
        while peek(","):
            take("sym", ",")
            values.append(take("str"))
        take("sym", ")")
    return values


@dataclass
class SObject:
    type: str
    id: str
    fields: dict[str, Any]
    deleted: bool = False


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    offset: int
    total: int
    version: str = API_VERSION
    extra: dict[str, Any] = field(default_factory=dict)


def salesforce_error(status: int, message: str) -> Response:
    code = {
        400: "MALFORMED_QUERY",
        401: "INVALID_SESSION_ID",
        403: "INSUFFICIENT_ACCESS",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        429: "REQUEST_LIMIT_EXCEEDED",
    }.get(status, "UNKNOWN_EXCEPTION" if status >= 500 else "INVALID_REQUEST")
    if status == 401:
        message = "Session expired or invalid"
    return json_response([{"message": message, "errorCode": code}], status=status)


class FakeSalesforce(FakeServer):
    """The fake org. Seed it with :meth:`add`; inspect :attr:`records` and :meth:`recycle_bin`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        page_size: int = 2,
        api_limit: int = 15_000,
        timeout_delay: float = 1.5,
    ) -> None:
        super().__init__(
            auth=bearer_auth(token),
            error_body=salesforce_error,
            timeout_delay=timeout_delay,
            name="salesforce",
        )
        self.token = token
        self.page_size = page_size
        self.api_limit = api_limit
        self.api_usage = 0
        self.records: dict[str, SObject] = {}
        self.locked_ids: set[str] = set()  # deletes answer UNABLE_TO_LOCK_ROW (a transient row lock)
        self.protected_ids: set[str] = set()  # deletes answer DELETE_FAILED (e.g. a validation rule)
        self._cursors: dict[str, _Cursor] = {}
        self._ids = itertools.count(1)
        self._locators = itertools.count(1)
        base = "/services/data/v{version}"
        self.add_route("GET", base + "/query", self._wrap(self._query))
        self.add_route("GET", base + "/query/{locator}", self._wrap(self._query_more))
        self.add_route("DELETE", base + "/composite/sobjects", self._wrap(self._composite_delete))
        self.add_route("DELETE", base + "/sobjects/{sobject}/{id}", self._wrap(self._delete_one))

    # -- seeding and inspection ----------------------------------------------------------------
    def add(self, sobject: str, **fields: Any) -> str:
        """Create a record (``add("Contact", Email="a@b.c", LastName="A")``) and return its id."""
        spec = SCHEMA[sobject]
        unknown = set(fields) - set(spec["fields"])
        if unknown:
            raise KeyError(f"{sobject} has no field(s) {sorted(unknown)}")
        n = next(self._ids)
        record_id = f"{spec['prefix']}Fk{n:010d}AAA"
        values: dict[str, Any] = {name: None for name in spec["fields"]}
        values.update(fields)
        values.update(Id=record_id, IsDeleted=False, CreatedDate="2025-01-01T00:00:00.000+0000")
        self.records[record_id] = SObject(type=sobject, id=record_id, fields=values)
        return record_id

    def live(self, sobject: str | None = None) -> list[SObject]:
        return [r for r in self.records.values() if not r.deleted and (sobject is None or r.type == sobject)]

    def recycle_bin(self) -> list[SObject]:
        return [r for r in self.records.values() if r.deleted]

    def emails(self, sobject: str = "Contact", field_name: str = "Email") -> list[str]:
        return [str(r.fields.get(field_name)) for r in self.live(sobject)]

    # -- plumbing ------------------------------------------------------------------------------
    def _wrap(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def wrapped(req: Request) -> Response:
            version = req.params.get("version", "")
            if not re.fullmatch(r"\d{2,3}\.0", version) or float(version) < 31.0:
                return salesforce_error(404, "The requested resource does not exist")
            self.api_usage += 1
            if self.api_usage > self.api_limit:
                resp = json_response(
                    [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                    status=403,
                )
            else:
                resp = handler(req)
            resp.headers["Sforce-Limit-Info"] = (
                f"api-usage={min(self.api_usage, self.api_limit)}/{self.api_limit}"
            )
            return resp

        return wrapped

    # -- query ---------------------------------------------------------------------------------
    def _query(self, req: Request) -> Response:
        statement = req.arg("q")
        if not statement:
            return salesforce_error(400, "A query string has to be specified")
        try:
            query = parse_soql(statement)
        except SOQLSyntaxError as exc:
            return json_response([{"message": exc.message, "errorCode": exc.code}], status=400)
        spec = next((s for name, s in SCHEMA.items() if name.lower() == query.sobject.lower()), None)
        if spec is None:
            return json_response(
                [
                    {
                        "message": f"sObject type '{query.sobject}' is not supported.",
                        "errorCode": "INVALID_TYPE",
                    }
                ],
                status=400,
            )
        sobject = next(name for name in SCHEMA if name.lower() == query.sobject.lower())
        canonical = {name.lower(): name for name in spec["fields"]}
        for name in [*query.fields, *([query.where_field] if query.where_field else [])]:
            if name.lower() not in canonical:
                return json_response(
                    [
                        {
                            "message": f"No such column '{name}' on entity '{sobject}'.",
                            "errorCode": "INVALID_FIELD",
                        }
                    ],
                    status=400,
                )
        where = canonical[query.where_field.lower()] if query.where_field else None
        wanted = {v.lower() for v in query.values}  # '=' on text fields is case-insensitive in SOQL
        rows = []
        for record in self.live(sobject):
            value = record.fields.get(where) if where else None
            if where is None or (isinstance(value, str) and value.lower() in wanted):
                row: dict[str, Any] = {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/v{req.params['version']}/sobjects/{sobject}/{record.id}",
                    }
                }
                for name in query.fields:
                    row[canonical[name.lower()]] = record.fields.get(canonical[name.lower()])
                rows.append(row)
        if query.limit is not None:
            rows = rows[: query.limit]
        return self._page(_Cursor(rows=rows, offset=0, total=len(rows), version=req.params["version"]))

    def _page(self, cursor: _Cursor) -> Response:
        batch = cursor.rows[cursor.offset : cursor.offset + self.page_size]
        end = cursor.offset + len(batch)
        body: dict[str, Any] = {"totalSize": cursor.total, "done": end >= cursor.total, "records": batch}
        if end < cursor.total:
            locator = f"01gFk{next(self._locators):010d}"
            key = f"{locator}-{end}"
            self._cursors[key] = _Cursor(
                rows=cursor.rows, offset=end, total=cursor.total, version=cursor.version
            )
            body["nextRecordsUrl"] = f"/services/data/v{cursor.version}/query/{key}"
        return json_response(body)

    def _query_more(self, req: Request) -> Response:
        key = req.params["locator"]
        cursor = self._cursors.pop(key, None)
        if cursor is None:
            return json_response(
                [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], status=400
            )
        if self.take_flag("repeated_cursor"):
            # A broken org: the batch points back at the locator the client just used.
            self._cursors[key] = cursor
            batch = cursor.rows[cursor.offset : cursor.offset + self.page_size]
            return json_response(
                {
                    "totalSize": cursor.total,
                    "done": False,
                    "records": batch,
                    "nextRecordsUrl": f"/services/data/v{cursor.version}/query/{key}",
                }
            )
        return self._page(cursor)

    # -- delete --------------------------------------------------------------------------------
    def _delete_result(self, record_id: str) -> tuple[dict[str, Any], SObject | None]:
        if not _ID_RE.match(record_id):
            return _failure("MALFORMED_ID", f"malformed id {record_id}"), None
        record = self.records.get(record_id)
        if record is None:
            return _failure("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"), None
        if record.deleted:
            return _failure("ENTITY_IS_DELETED", "entity is deleted"), None
        if record_id in self.locked_ids:
            return _failure("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"), None
        if record_id in self.protected_ids:
            return _failure("DELETE_FAILED", "Your attempt to delete this record failed"), None
        return {"id": record_id, "success": True, "errors": []}, record

    def _composite_delete(self, req: Request) -> Response:
        raw = req.arg("ids")
        if not raw:
            return json_response(
                [{"message": "ids parameter is required", "errorCode": "MISSING_ARGUMENT"}], status=400
            )
        ids = [i for i in raw.split(",") if i]
        if len(ids) > 200:
            return json_response(
                [
                    {
                        "message": "record limit reached. cannot submit more than 200 records into this call",
                        "errorCode": "EXCEEDED_ID_LIMIT",
                    }
                ],
                status=400,
            )
        all_or_none = (req.arg("allOrNone") or "false").lower() == "true"
        results = []
        to_delete: list[SObject] = []
        for record_id in ids:
            result, record = self._delete_result(record_id)
            results.append(result)
            if record is not None and record not in to_delete:
                to_delete.append(record)
        if all_or_none and any(not r["success"] for r in results):
            rolled = _failure(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all succeeded"
            )
            return json_response([r if not r["success"] else rolled for r in results])
        for record in to_delete:
            record.deleted = True
            record.fields["IsDeleted"] = True
        return json_response(results)

    def _delete_one(self, req: Request) -> Response:
        result, record = self._delete_result(req.params["id"])
        if record is None:
            error = result["errors"][0]
            return json_response(
                [{"message": error["message"], "errorCode": error["statusCode"]}], status=404
            )
        record.deleted = True
        record.fields["IsDeleted"] = True
        return Response(status=204)


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": []}]}


def query_params(req: Request) -> dict[str, str]:
    """The decoded query string of a logged request (for assertions on the SOQL sent)."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(req.raw_path).query).items()}
