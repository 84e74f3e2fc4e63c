"""A reusable fake vendor HTTP server on 127.0.0.1, for connector tests over real HTTP.

Public part of the SDK's testing kit: third-party connector packages (``manage.py
startconnector``, ``examples/acme_crm``) build their fakes on it, since they cannot import this
repository's tests. The built-in
fakes (``connectors/hubspot/fake.py``, ``connectors/mailchimp/fake.py``, ...) use: each is a
:class:`FakeServer` with routes. Connectors talk to it over loopback with their real HTTP client:
nothing in httpx is mocked.

Quick tour::

    server = FakeServer(auth=bearer_auth("tok"))

    @server.route("GET", "/v1/customers/{id}")
    def get_customer(req: Request) -> Response:
        return json_response({"id": req.params["id"]})

    @server.route("POST", "/v1/customers/search", mutating=False)   # a POST that only reads
    def search(req: Request) -> Response:
        return json_response({"data": [], "q": req.json()["query"]})

    with server:                          # starts on a random free port, stops on exit
        server.url                        # "http://127.0.0.1:54321"
        server.inject(Fault.rate_limited(2))          # the next request gets 429 + Retry-After: 2
        server.inject(Fault.status_code(503), times=3)     # the next three get 503
        server.inject(Fault.slow(2.0))                # the next one answers after 2 s (client timeout)
        ...
        server.requests                   # the log: [Request(method, path, query, headers, body)]
        server.mutation_count             # requests routed to a mutating route
        server.inject_kit_fault("rate_limited")       # a conformance-kit Fault by name

In pytest, use :func:`serve` (a context manager) from a fixture::

    @pytest.fixture
    def fake():
        with serve(make_my_fake()) as server:
            yield server

Routes: ``{name}`` in a pattern matches one path segment (``req.params["name"]``, URL-decoded);
``{name:path}`` matches the rest of the path. A route is *mutating* when declared so; by default
POST/PUT/PATCH/DELETE are mutating and GET/HEAD are not. ``mutation_count`` counts requests that
reached a mutating route's handler (injected faults and auth failures never do), which is what the
conformance kit uses to prove that a dry run writes nothing and a second erase changes nothing.

Faults are queued FIFO and consumed by the next matching request (optionally filtered by method and
path regex), before the auth check. Vendor-specific error bodies come from ``error_body``, a
callable ``(status, message) -> Response`` passed to the server (default: ``{"message": ...}``).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FakeServer",
    "Fault",
    "Request",
    "Response",
    "basic_auth",
    "bearer_auth",
    "empty_response",
    "header_auth",
    "json_response",
    "serve",
]

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# -- request / response ---------------------------------------------------------------------------
@dataclass
class Request:
    """One request as the server received it (also the entry type of ``FakeServer.requests``)."""

    method: str
    path: str  # URL-decoded path, without the query string
    raw_path: str  # path and query exactly as sent
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # filled from the route pattern
    route: str | None = None  # the pattern that matched, if any
    fault: str | None = None  # the fault answered instead of the handler, if any

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[str]]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    """What a handler returns. Use :func:`json_response` / :func:`empty_response` to build one."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    """A JSON response (``content_type`` lets a fake answer ``application/problem+json``)."""
    return Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": content_type, **(headers or {})},
    )


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    """A response without a body (``204 No Content`` by default)."""
    return Response(status=status, headers=dict(headers or {}))


def default_error_body(status: int, message: str) -> Response:
    return json_response({"status": status, "message": message}, status=status)


# -- auth helpers ---------------------------------------------------------------------------------
AuthCheck = Callable[[Request], bool]


def header_auth(name: str, expected: str) -> AuthCheck:
    """Accept requests whose header ``name`` equals ``expected`` exactly."""
    return lambda req: req.header(name) == expected


def bearer_auth(token: str) -> AuthCheck:
    """Accept ``Authorization: Bearer <token>``."""
    return header_auth("authorization", f"Bearer {token}")


def basic_auth(password: str, username: str | None = None) -> AuthCheck:
    """Accept HTTP Basic auth with ``password`` (and ``username`` if given; any user otherwise)."""

    def check(req: Request) -> bool:
        import base64
        import binascii

        value = req.header("authorization") or ""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, pwd = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(sep) and pwd == password and (username is None or user == username)

    return check


# -- faults ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """A response injected instead of the handler's. Build one with the class methods.

    ``status=None`` with a ``delay`` means "wait, then answer normally" (a slow server).
    ``method`` / ``path`` (a regex searched in the path) restrict which requests consume it.
    """

    name: str
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the server's error_body(status, message)
    message: str = ""
    delay: float = 0.0
    method: str | None = None
    path: str | None = None

    @classmethod
    def status_code(
        cls, status: int, message: str = "", headers: Mapping[str, str] | None = None, **match: str
    ) -> Fault:
        return cls(
            name=f"status_{status}",
            status=status,
            headers=dict(headers or {}),
            message=message or f"injected {status}",
            **match,  # type: ignore[arg-type]
        )

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = 2, **match: str) -> Fault:
        """429 with ``Retry-After`` (seconds, or an HTTP-date string; ``None`` for no header)."""
        headers = {} if retry_after is None else {"Retry-After": _fmt(retry_after)}
        return cls(name="rate_limited", status=429, headers=headers, message="rate limit exceeded", **match)  # type: ignore[arg-type]

    @classmethod
    def server_error(cls, status: int = 503, **match: str) -> Fault:
        return cls(name=f"server_error_{status}", status=status, message="service unavailable", **match)  # type: ignore[arg-type]

    @classmethod
    def unauthorized(cls, status: int = 401, **match: str) -> Fault:
        return cls(name=f"unauthorized_{status}", status=status, message="authentication failed", **match)  # type: ignore[arg-type]

    @classmethod
    def slow(cls, seconds: float, **match: str) -> Fault:
        """Answer normally but only after ``seconds`` (longer than the client timeout -> timeout)."""
        return cls(name="delay", delay=seconds, **match)  # type: ignore[arg-type]

    @classmethod
    def malformed_json(cls, **match: str) -> Fault:
        """200 with a JSON content type and a body that is not JSON."""
        return cls(
            name="malformed_json",
            status=200,
            headers={"Content-Type": "application/json"},
            body=b'{"results": [ this is not json',
            **match,  # type: ignore[arg-type]
        )

    @classmethod
    def redirect(cls, location: str, status: int = 302, **match: str) -> Fault:
        """A redirect, e.g. to another host (a client must not follow it)."""
        return cls(name="redirect", status=status, headers={"Location": location}, body=b"", **match)  # type: ignore[arg-type]

    def matches(self, req: Request) -> bool:
        if self.method and self.method.upper() != req.method:
            return False
        return not (self.path and not re.search(self.path, req.path))


def _fmt(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


# -- routing --------------------------------------------------------------------------------------
Handler = Callable[[Request], Response]


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    mutating: bool


def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    pos = 0
    for m in re.finditer(r"\{(\w+)(:path)?\}", pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


class FakeServer:
    """A threaded HTTP server on ``127.0.0.1`` with routes, a request log and fault injection.

    ``auth``: a predicate on the request (see :func:`bearer_auth`, :func:`basic_auth`,
    :func:`header_auth`); failing requests get ``error_body(401, ...)`` and never reach a handler.
    ``error_body``: builds the vendor's error envelope for a status and a message.
    ``timeout_delay``: the delay used by :meth:`inject_timeout` (make it longer than the client's
    read timeout in tests).
    """

    def __init__(
        self,
        *,
        auth: AuthCheck | None = None,
        error_body: Callable[[int, str], Response] = default_error_body,
        timeout_delay: float = 1.5,
        name: str = "fake",
    ) -> None:
        self.auth = auth
        self.error_body = error_body
        self.timeout_delay = timeout_delay
        self.name = name
        self.requests: list[Request] = []
        self.mutation_count = 0
        self.lock = threading.RLock()  # handlers run under it: fake state needs no extra locking
        self._routes: list[_Route] = []
        self._faults: list[Fault] = []
        self._flags: set[str] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- routes -----------------------------------------------------------------------------
    def add_route(self, method: str, pattern: str, handler: Handler, *, mutating: bool | None = None) -> None:
        method = method.upper()
        self._routes.append(
            _Route(
                method=method,
                pattern=pattern,
                regex=_compile(pattern),
                handler=handler,
                mutating=(method in MUTATING_METHODS) if mutating is None else mutating,
            )
        )

    def route(
        self, method: str, pattern: str, *, mutating: bool | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add_route`."""

        def register(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler, mutating=mutating)
            return handler

        return register

    # -- faults -----------------------------------------------------------------------------
    def inject(self, fault: Fault, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` matching requests."""
        with self.lock:
            self._faults.extend([fault] * times)

    def inject_timeout(self, times: int = 1, **match: str) -> None:
        """Queue a delay of ``timeout_delay`` seconds (longer than the client timeout)."""
        self.inject(Fault.slow(self.timeout_delay, **match), times)

    def inject_kit_fault(self, fault: str) -> None:
        """Inject a :class:`connectors.testing.Fault` (the conformance kit's names) into the next request.

        ``repeated_cursor`` only raises a flag: the vendor fake's list handler must call
        ``take_flag("repeated_cursor")`` and, when it returns true, hand back a cursor already used.
        """
        from connectors.testing import FOREIGN_URL, RETRY_AFTER_SECONDS

        name = str(fault)
        faults = {
            "rate_limited": Fault.rate_limited(RETRY_AFTER_SECONDS),
            "server_error": Fault.server_error(500),
            "service_unavailable": Fault.server_error(503),
            "malformed_json": Fault.malformed_json(),
            "unauthorized": Fault.unauthorized(401),
            "forbidden": Fault.unauthorized(403),
            "foreign_redirect": Fault.redirect(FOREIGN_URL),
        }
        if name == "timeout":
            self.inject_timeout()
        elif name in faults:
            self.inject(faults[name])
        else:
            self.set_flag(name)

    def set_flag(self, name: str) -> None:
        """Raise a named one-shot flag for a vendor handler to consume (see :meth:`take_flag`)."""
        with self.lock:
            self._flags.add(name)

    def take_flag(self, name: str) -> bool:
        """True (once) if the flag ``name`` was raised."""
        with self.lock:
            if name in self._flags:
                self._flags.discard(name)
                return True
            return False

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        with self.lock:
            return len(self._faults)

    # -- log ----------------------------------------------------------------------------------
    def reset_log(self) -> None:
        """Forget the request log (``mutation_count`` is kept: it is the vendor's state)."""
        with self.lock:
            self.requests.clear()

    def requests_to(self, method: str, path_regex: str) -> list[Request]:
        """Logged requests with ``method`` whose path matches ``path_regex`` (``re.search``)."""
        with self.lock:
            return [r for r in self.requests if r.method == method.upper() and re.search(path_regex, r.path)]

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash). Only valid while running."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return int(self._httpd.server_address[1])

    def start(self) -> FakeServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping in an injected delay
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch (called from the handler threads) --------------------------------------------
    def _take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(req):
                    return self._faults.pop(i)
        return None

    def _handle(self, req: Request) -> Response:
        with self.lock:
            self.requests.append(req)
        fault = self._take_fault(req)
        if fault is not None:
            req.fault = fault.name
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.status is not None:
                if fault.body is not None:
                    return Response(status=fault.status, body=fault.body, headers=dict(fault.headers))
                resp = self.error_body(fault.status, fault.message)
                resp.headers.update(fault.headers)
                return resp
        if self.auth is not None and not self.auth(req):
            return self.error_body(401, "Authentication credentials not found or invalid.")
        allowed_methods = []
        encoded_path = urllib.parse.urlsplit(req.raw_path).path  # route on segments, then decode each
        for route in self._routes:
            m = route.regex.match(encoded_path)
            if not m:
                continue
            if route.method != req.method:
                allowed_methods.append(route.method)
                continue
            req.params = {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
            req.route = route.pattern
            with self.lock:
                if route.mutating:
                    self.mutation_count += 1
                return route.handler(req)
        if allowed_methods:
            return self.error_body(405, f"method {req.method} not allowed")
        return self.error_body(404, f"no route for {req.method} {req.path}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


def _make_handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "DSRHubFake/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            req = Request(
                method=self.command.upper(),
                path=urllib.parse.unquote(split.path),
                raw_path=self.path,
                query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                resp = server._handle(req)
            except Exception as exc:  # a bug in a fake must be visible, not a hung client
                resp = json_response({"message": f"fake server error: {exc!r}"}, status=599)
            try:
                self.send_response(resp.status)
                for name, value in resp.headers.items():
                    self.send_header(name, value)
                if resp.status not in (204, 304) and not (100 <= resp.status < 200):
                    self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if resp.body and self.command != "HEAD" and resp.status != 204:
                    self.wfile.write(resp.body)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. its timeout fired)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return _Handler


@contextmanager
def serve(server: FakeServer) -> Iterator[FakeServer]:
    """Run ``server`` for the duration of a ``with`` block (use it from a pytest fixture)."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
