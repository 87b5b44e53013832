from __future__ import annotations

import pytest
from starlette.requests import Request

from alpr_core.api.client_address import came_over_tls, client_address, trusted_networks

PROXY = trusted_networks(["10.0.0.0/8"])


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        pytest.param("203.0.113.9", None, "203.0.113.9", id="no proxy"),
        pytest.param(
            "203.0.113.9",
            "198.51.100.1",
            "203.0.113.9",
            id="a header from an untrusted peer is ignored",
        ),
        pytest.param("10.0.0.2", "198.51.100.1", "198.51.100.1", id="the proxy's client"),
        pytest.param(
            "10.0.0.2",
            "1.2.3.4, 198.51.100.1, 10.0.0.7",
            "198.51.100.1",
            id="the rightmost hop that is not a proxy",
        ),
        pytest.param("10.0.0.2", "not-an-address", None, id="a forged hop that is no address"),
        pytest.param("10.0.0.2", "10.0.0.3", "10.0.0.3", id="only proxies: the first one"),
        pytest.param("testclient", None, None, id="a name, not an address"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str | None) -> None:
    assert client_address(_request(peer, forwarded), PROXY) == expected


@pytest.mark.parametrize(
    ("scheme", "peer", "proto", "expected"),
    [
        pytest.param("https", "203.0.113.9", None, True, id="TLS to us"),
        pytest.param("http", "203.0.113.9", None, False, id="plain HTTP"),
        pytest.param("http", "10.0.0.2", "https", True, id="TLS to the trusted proxy"),
        pytest.param("http", "10.0.0.2", " HTTPS ", True, id="as the proxy spells it"),
        pytest.param("http", "10.0.0.2", "http", False, id="plain HTTP to the proxy"),
        pytest.param("http", "203.0.113.9", "https", False, id="a claim from an untrusted peer"),
    ],
)
def test_came_over_tls(scheme: str, peer: str, proto: str | None, expected: bool) -> None:
    headers = [(b"x-forwarded-proto", proto.encode())] if proto else []
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": ("alpr.example", 443),
        "path": "/console/sign-in",
        "query_string": b"",
        "client": (peer, 5000),
        "headers": headers,
    }
    assert came_over_tls(Request(scope), PROXY) is expected
