from __future__ import annotations

import pytest
from starlette.requests import Request

from alpr_core.api.client_address import client_address, trusted_networks

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
