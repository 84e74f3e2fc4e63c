"""connectors.http over real loopback HTTP against the SDK's fake server (connectors/testing/server.py)."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator

import pytest

from connectors.errors import AuthError, PermanentError, RateLimited, TransientError
from connectors.http import (
    HttpClient,
    paginate_cursor,
    paginate_offset,
    parse_retry_after,
    quote_segment,
    scrub,
    validate_base_url,
)
from connectors.ratelimit import MemoryRateLimiter, Rate
from connectors.testing import LOCAL_POLICY
from connectors.testing.server import (
    FakeServer,
    Fault,
    Request,
    Response,
    basic_auth,
    bearer_auth,
    empty_response,
    json_response,
    serve,
)

TOKEN = "sk_test_supersecret_0123456789"


def make_server() -> FakeServer:
    server = FakeServer(auth=bearer_auth(TOKEN))

    @server.route("GET", "/v1/items/{item_id}")
    def get_item(req: Request) -> Response:
        return json_response({"id": req.params["item_id"], "q": req.arg("q")})

    @server.route("POST", "/v1/search", mutating=False)
    def search(req: Request) -> Response:
        return json_response({"echo": req.json()})

    @server.route("DELETE", "/v1/items/{item_id}")
    def delete_item(req: Request) -> Response:
        return empty_response(204)

    @server.route("GET", "/v1/pages")
    def pages(req: Request) -> Response:
        cursor = int(req.arg("cursor", "0") or 0)
        nxt = None if cursor >= 2 else str(cursor + 1)
        return json_response({"data": [f"item-{cursor}"], "next": nxt})

    @server.route("GET", "/v1/bad-request")
    def bad_request(req: Request) -> Response:
        return json_response(
            {"message": f"invalid key {TOKEN} for jane.doe@example.com", "category": "VALIDATION_ERROR"},
            status=400,
        )

    return server


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serve(make_server()) as s:
        yield s


@pytest.fixture
def client(server: FakeServer) -> Iterator[HttpClient]:
    with HttpClient(
        f"{server.url}/v1",
        vendor="acme",
        headers={"Authorization": f"Bearer {TOKEN}"},
        secrets=[TOKEN],
        timeout=0.5,
        policy=LOCAL_POLICY,
    ) as c:
        yield c


# -- the fake server itself ---------------------------------------------------------------------
def test_server_logs_requests_and_counts_mutations(server: FakeServer, client: HttpClient) -> None:
    assert client.get_json("/items/abc", params={"q": "x"}) == {"id": "abc", "q": "x"}
    assert client.post_json("/search", json={"a": 1}) == {"echo": {"a": 1}}
    client.delete("/items/abc")
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/items/abc"),
        ("POST", "/v1/search"),
        ("DELETE", "/v1/items/abc"),
    ]
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests[1].json() == {"a": 1}
    assert server.mutation_count == 1  # the search POST is declared non-mutating
    assert len(server.requests_to("DELETE", r"^/v1/items/")) == 1


def test_server_auth_and_unknown_route(server: FakeServer) -> None:
    bad = HttpClient(
        server.url, vendor="acme", headers={"Authorization": "Bearer nope"}, timeout=1, policy=LOCAL_POLICY
    )
    with bad, pytest.raises(AuthError):
        bad.get("/v1/items/1")
    with HttpClient(
        server.url,
        vendor="acme",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=1,
        policy=LOCAL_POLICY,
    ) as ok:
        with pytest.raises(PermanentError) as info:
            ok.get("/v1/nothing-here")
        assert "404" in str(info.value)
        assert server.mutation_count == 0


def test_basic_auth_helper() -> None:
    server = FakeServer(auth=basic_auth("key-us6"))
    server.add_route("GET", "/ping", lambda req: json_response({"ok": True}))
    with serve(server):
        with HttpClient(
            server.url, vendor="mc", auth=("anyone", "key-us6"), timeout=1, policy=LOCAL_POLICY
        ) as c:
            assert c.get_json("/ping") == {"ok": True}
        wrong = HttpClient(server.url, vendor="mc", auth=("anyone", "wrong"), timeout=1, policy=LOCAL_POLICY)
        with wrong, pytest.raises(AuthError):
            wrong.get("/ping")


def test_faults_are_consumed_in_order_and_can_be_filtered(server: FakeServer, client: HttpClient) -> None:
    server.inject(Fault.status_code(503), times=2)
    server.inject(Fault.server_error(500, path=r"/search"))
    for _ in range(2):
        with pytest.raises(TransientError):
            client.get("/items/1")
    assert client.get_json("/items/1")["id"] == "1"  # the /search fault is still queued
    assert server.pending_faults == 1
    with pytest.raises(TransientError):
        client.post("/search", json={})
    assert server.pending_faults == 0


# -- error mapping ------------------------------------------------------------------------------
def test_429_with_retry_after_seconds(server: FakeServer, client: HttpClient) -> None:
    server.inject(Fault.rate_limited(2))
    with pytest.raises(RateLimited) as info:
        client.get("/items/1")
    assert info.value.retry_after == 2.0


def test_429_with_retry_after_http_date(server: FakeServer, client: HttpClient) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.inject(Fault.rate_limited(when))
    with pytest.raises(RateLimited) as info:
        client.get("/items/1")
    assert info.value.retry_after is not None
    assert 25 <= info.value.retry_after <= 31


def test_429_without_header_uses_the_vendor_hook(server: FakeServer) -> None:
    server.inject(Fault.rate_limited(None))
    with (
        HttpClient(
            server.url,
            vendor="acme",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=1,
            retry_after=lambda response: 7.0,
            policy=LOCAL_POLICY,
        ) as c,
        pytest.raises(RateLimited) as info,
    ):
        c.get("/v1/items/1")
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(server: FakeServer, client: HttpClient, status: int) -> None:
    server.inject(Fault.server_error(status))
    with pytest.raises(TransientError) as info:
        client.get("/items/1")
    assert not isinstance(info.value, RateLimited)


def test_timeout_is_transient(server: FakeServer, client: HttpClient) -> None:
    server.inject(Fault.slow(1.5))
    started = time.monotonic()
    with pytest.raises(TransientError, match="timed out"):
        client.get("/items/1")
    assert time.monotonic() - started < 1.4


def test_connection_refused_is_transient() -> None:
    server = FakeServer()
    server.start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    with HttpClient(url, vendor="acme", timeout=1, policy=LOCAL_POLICY) as c, pytest.raises(TransientError):
        c.get("/x")


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors(server: FakeServer, client: HttpClient, status: int) -> None:
    server.inject(Fault.unauthorized(status))
    with pytest.raises(AuthError):
        client.get("/items/1")


def test_other_4xx_is_permanent_with_scrubbed_vendor_message(client: HttpClient) -> None:
    with pytest.raises(PermanentError) as info:
        client.get("/bad-request")
    message = str(info.value)
    assert "invalid key" in message
    assert "400" in message
    assert TOKEN not in message
    assert "jane.doe@example.com" not in message


def test_allowed_status_is_returned(client: HttpClient) -> None:
    assert client.get("/missing", allow=(404,)).status_code == 404


def test_malformed_json_is_transient(server: FakeServer, client: HttpClient) -> None:
    server.inject(Fault.malformed_json())
    with pytest.raises(TransientError, match="malformed JSON"):
        client.get_json("/items/1")


def test_redirects_are_not_followed(server: FakeServer, client: HttpClient) -> None:
    server.inject(Fault.redirect("http://attacker.invalid/steal"))
    with pytest.raises(PermanentError, match="redirect"):
        client.get("/items/1")
    assert len(server.requests) == 1


# -- host pinning -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/v1/items/1",
        "//evil.example.com/v1/items/1",
        "http://127.0.0.2/v1/items/1",
        "ftp://127.0.0.1/v1/items/1",
    ],
)
def test_absolute_urls_to_other_hosts_are_refused(server: FakeServer, client: HttpClient, url: str) -> None:
    with pytest.raises(PermanentError, match="unexpected host"):
        client.get(url)
    assert server.requests == []


def test_other_port_on_same_host_is_refused(server: FakeServer, client: HttpClient) -> None:
    with pytest.raises(PermanentError, match="unexpected host"):
        client.get(f"http://127.0.0.1:{server.port + 1}/v1/items/1")


def test_same_origin_absolute_url_is_allowed(server: FakeServer, client: HttpClient) -> None:
    assert client.get_json(f"{server.url}/v1/items/nxt")["id"] == "nxt"


def test_quote_segment_cannot_escape_the_path(server: FakeServer, client: HttpClient) -> None:
    client.get(f"/items/{quote_segment('../../admin?x=1')}", allow=(404,))
    assert server.requests[-1].route == "/v1/items/{item_id}"
    assert server.requests[-1].params["item_id"] == "../../admin?x=1"


def test_base_url_validation() -> None:
    assert validate_base_url("https://api.hubapi.com/") == "https://api.hubapi.com"
    assert validate_base_url("http://127.0.0.1:8080/3.0") == "http://127.0.0.1:8080/3.0"
    for bad in ["http://api.hubapi.com", "https://user:pw@x.com", "https://x.com/?a=1", "file:///etc", "x"]:
        with pytest.raises(ValueError):  # noqa: PT011 - each bad URL has its own message
            validate_base_url(bad)
    with pytest.raises(PermanentError):
        HttpClient("not a url", vendor="x", policy=LOCAL_POLICY)


def test_timeouts_are_always_set() -> None:
    with HttpClient("https://api.example.com", vendor="x", policy=LOCAL_POLICY) as c:
        assert None not in (c.timeout.connect, c.timeout.read, c.timeout.write, c.timeout.pool)
    import httpx

    with pytest.raises(PermanentError):
        HttpClient("https://api.example.com", vendor="x", timeout=httpx.Timeout(None), policy=LOCAL_POLICY)
    with pytest.raises(PermanentError):
        HttpClient("https://api.example.com", vendor="x", timeout=0, policy=LOCAL_POLICY)


# -- logging ------------------------------------------------------------------------------------
def test_logs_method_and_path_only(
    server: FakeServer, client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/items/1", params={"email": "jane.doe@example.com"})
    server.inject(Fault.server_error(503))
    with pytest.raises(TransientError):
        client.post("/search", json={"email": "jane.doe@example.com"})
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("connectors")]
    assert any("GET /v1/items/1" in m for m in ours)
    for text in [caplog.text, *ours]:
        assert TOKEN not in text
    assert all("jane.doe@example.com" not in m for m in ours)


# -- helpers ------------------------------------------------------------------------------------
def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_scrub() -> None:
    text = scrub("token abc123 leaked for Jane.Doe+x@Example.com " + "y" * 500, ["abc123"])
    assert "abc123" not in text
    assert "Example.com" not in text
    assert len(text) <= 300


def test_paginate_cursor_over_http(client: HttpClient, server: FakeServer) -> None:
    def fetch(cursor: str | None) -> tuple[list[str], str | None]:
        data = client.get_json("/pages", params={"cursor": cursor} if cursor else None)
        return data["data"], data["next"]

    assert list(paginate_cursor(fetch)) == ["item-0", "item-1", "item-2"]
    assert len(server.requests) == 3


def test_paginate_cursor_detects_repeated_cursor() -> None:
    cursors = iter(["a", "b", "a"])

    def fetch(cursor: str | None) -> tuple[list[int], str | None]:
        return [1], next(cursors)

    with pytest.raises(PermanentError, match="repeated cursor"):
        list(paginate_cursor(fetch))


def test_paginate_cursor_caps_pages() -> None:
    counter = iter(range(1000))
    with pytest.raises(PermanentError, match="exceeded 5 pages"):
        list(paginate_cursor(lambda c: ([1], str(next(counter))), max_pages=5))


def test_paginate_offset() -> None:
    items = list(range(7))

    def fetch(offset: int, count: int) -> tuple[list[int], int | None]:
        return items[offset : offset + count], len(items)

    assert list(paginate_offset(fetch, page_size=3, key=lambda i: i)) == items

    def stuck(offset: int, count: int) -> tuple[list[int], int | None]:
        return items[:count], len(items)  # ignores offset

    with pytest.raises(PermanentError, match="repeated a page"):
        list(paginate_offset(stuck, page_size=3, key=lambda i: i))


# -- rate limiter integration -------------------------------------------------------------------
def test_client_takes_tokens_and_a_429_pauses_the_key(server: FakeServer) -> None:
    slept: list[float] = []
    limiter = MemoryRateLimiter(sleep=slept.append)
    with HttpClient(
        server.url,
        vendor="acme",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=1,
        limiter=limiter,
        limit_key="acme:acct1",
        rate=Rate(per_second=1000, burst=1000),
        max_wait=5,
        policy=LOCAL_POLICY,
    ) as c:
        c.get("/v1/items/1")
        server.inject(Fault.rate_limited(30))
        with pytest.raises(RateLimited):
            c.get("/v1/items/1")
        assert limiter.paused_for("acme:acct1") > 25
        with pytest.raises(RateLimited) as info:  # every user of the key now waits, without a request
            c.get("/v1/items/1")
        assert info.value.retry_after is not None
        assert info.value.retry_after > 25
    assert len(server.requests) == 2
