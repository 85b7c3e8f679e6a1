"""The fence: only listed origins, HTTPS, size and time limits, no
cross-origin redirects, and no request at all for a refused URL."""

import socket

import pytest

from verifier.errors import FetchFailed, FetchRefused
from verifier.fetch import FencedFetcher, FetchPolicy

from .support import Route, running_server


@pytest.fixture
def http_server():
    with running_server() as server:
        yield server


@pytest.fixture
def https_server(tmp_path):
    with running_server(tls_dir=tmp_path / "tls") as server:
        yield server


def local_fetcher(**policy) -> FencedFetcher:
    return FencedFetcher(FetchPolicy(allow_http=True, **policy))


def test_https_document_fetched(https_server):
    url = https_server.serve_json("/status/1", {"ok": True})
    fetcher = FencedFetcher(FetchPolicy(verify=https_server.client_context))

    fetched = fetcher.fetch_json(url, (https_server.origin,))

    assert fetched.document == {"ok": True}
    assert https_server.requests == ["/status/1"]


def test_untrusted_certificate_fails(https_server):
    url = https_server.serve_json("/status/1", {"ok": True})
    fetcher = FencedFetcher(FetchPolicy())

    with pytest.raises(FetchFailed, match="could not be fetched"):
        fetcher.fetch_json(url, (https_server.origin,))


def test_plain_http_refused_by_default(http_server):
    url = http_server.serve_json("/status/1", {"ok": True})

    with pytest.raises(FetchRefused, match="does not use https"):
        FencedFetcher().fetch_json(url, (http_server.origin,))
    assert http_server.requests == []


def test_unlisted_origin_makes_no_request(http_server):
    url = http_server.serve_json("/status/1", {"ok": True})

    with pytest.raises(FetchRefused, match="not on an origin the trust registry"):
        local_fetcher().fetch_json(url, ("https://trust.example",))
    assert http_server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/list",
        "http://user:pw@127.0.0.1:{port}/status/1",
        "http:///status/1",
        "http://127.0.0.1:99999/status/1",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_bad_urls_refused_without_request(http_server, url):
    with pytest.raises(FetchRefused):
        local_fetcher().fetch_json(
            url.format(port=http_server.port), (http_server.origin,)
        )
    assert http_server.requests == []


def test_same_origin_redirect_followed(http_server):
    http_server.routes["/old"] = Route(status=302, headers={"Location": "/new"})
    http_server.serve_json("/new", {"moved": True})

    fetched = local_fetcher().fetch_json(
        http_server.origin + "/old", (http_server.origin,)
    )

    assert fetched.document == {"moved": True}
    assert fetched.url == http_server.origin + "/new"


def test_cross_origin_redirect_not_followed(http_server):
    with running_server() as other:
        other.serve_json("/list", {"other": True})
        http_server.routes["/old"] = Route(
            status=307, headers={"Location": other.origin + "/list"}
        )

        with pytest.raises(FetchRefused, match="another origin"):
            local_fetcher().fetch_json(
                http_server.origin + "/old", (http_server.origin, other.origin)
            )
        assert other.requests == []


def test_redirect_loop_stops(http_server):
    http_server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})

    with pytest.raises(FetchFailed, match="redirected more than 3 times"):
        local_fetcher().fetch_json(http_server.origin + "/loop", (http_server.origin,))
    assert len(http_server.requests) == 4


def test_declared_oversize_body_rejected(http_server):
    http_server.routes["/big"] = Route(body=b"[" + b"0," * 600 + b"0]")

    with pytest.raises(FetchFailed, match="declares"):
        local_fetcher(max_bytes=1000).fetch_json(
            http_server.origin + "/big", (http_server.origin,)
        )


def test_undeclared_oversize_body_rejected(http_server):
    # No Content-Length: the body is read until the limit and then dropped.
    http_server.routes["/big"] = Route(
        body=b"[" + b"0," * 5000 + b"0]", omit_length=True
    )

    with pytest.raises(FetchFailed, match="sent more than 1000 bytes"):
        local_fetcher(max_bytes=1000).fetch_json(
            http_server.origin + "/big", (http_server.origin,)
        )


def test_error_status_fails(http_server):
    with pytest.raises(FetchFailed, match="HTTP 404"):
        local_fetcher().fetch_json(
            http_server.origin + "/absent", (http_server.origin,)
        )


def test_invalid_json_fails(http_server):
    http_server.routes["/text"] = Route(body=b"<html>not json</html>")

    with pytest.raises(FetchFailed, match="did not return JSON"):
        local_fetcher().fetch_json(http_server.origin + "/text", (http_server.origin,))


def test_slow_server_times_out(http_server):
    http_server.routes["/slow"] = Route(body=b"{}", delay=2.0)

    with pytest.raises(FetchFailed, match="timed out"):
        local_fetcher(timeout=0.3).fetch_json(
            http_server.origin + "/slow", (http_server.origin,)
        )


def test_silent_address_times_out():
    # A listening socket that never accepts: the connection is queued by the
    # kernel but no byte ever comes back.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        origin = f"http://127.0.0.1:{silent.getsockname()[1]}"

        with pytest.raises(FetchFailed, match="timed out"):
            local_fetcher(timeout=0.3).fetch_json(origin + "/status", (origin,))


def test_closed_port_fails():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"

    with pytest.raises(FetchFailed, match="could not be fetched"):
        local_fetcher(timeout=0.5).fetch_json(origin + "/status", (origin,))


def test_refusal_names_few_origins():
    fetcher = FencedFetcher(FetchPolicy())
    origins = tuple(f"https://member{number}.example" for number in range(10))

    with pytest.raises(FetchRefused) as refused:
        fetcher.check_url("https://elsewhere.example/list", origins)

    message = str(refused.value)
    assert "https://member0.example" in message
    assert "https://member9.example" not in message
    assert "and 7 more" in message
    assert "for this issuer" in message
