"""docker/caddy/Caddyfile, the front door, checked by Caddy itself (the image's version, built by
`infra/caddy.sh install`): the file validates, and the same file run on local ports in front of
local HTTP servers redirects HTTP to HTTPS, serves the API through its local CA, strips the
/grafana/ and /registry/ prefixes, and lets no one reach the registry without its credentials.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.compose import REPO

CADDYFILE = REPO / "docker/caddy/Caddyfile"
REGISTRY_USER = "edge"
REGISTRY_PASSWORD = "registry-test-password"
START_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def caddy() -> Path:
    found = subprocess.run(
        ["bash", str(REPO / "infra/caddy.sh"), "path"], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, "caddy is missing: run `bash infra/caddy.sh install`"
    return Path(found.stdout.strip())


@pytest.fixture(scope="module")
def password_hash(caddy: Path) -> str:
    hashed = subprocess.run(
        [str(caddy), "hash-password", "--plaintext", REGISTRY_PASSWORD],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return hashed.stdout.strip()


def caddy_environment(home: Path, **settings: str) -> dict[str, str]:
    """A clean environment: Caddy's data (the local CA) and config under ``home``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        **settings,
    }


def validate(caddy: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(caddy), "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False, timeout=60
    )


def test_the_caddyfile_validates(caddy: Path, password_hash: str, tmp_path: Path) -> None:
    environment = caddy_environment(tmp_path, PROXY_REGISTRY_PASSWORD_HASH=password_hash)
    result = validate(caddy, environment)
    assert result.returncode == 0, result.stderr


def test_the_caddyfile_is_formatted_as_caddy_formats_it(caddy: Path) -> None:
    command = [str(caddy), "fmt", "--diff", str(CADDYFILE)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    assert result.returncode == 0, result.stdout


def test_the_caddyfile_validates_with_certificates_given(
    caddy: Path, password_hash: str, proxy: Proxy, tmp_path: Path
) -> None:
    """PROXY_TLS="CERT KEY" instead of the local CA; here, a pair the running proxy issued."""
    issued = proxy.root_ca.parents[3] / "certificates/local/localhost"
    given = f"{issued / 'localhost.crt'} {issued / 'localhost.key'}"
    environment = caddy_environment(
        tmp_path, PROXY_REGISTRY_PASSWORD_HASH=password_hash, PROXY_TLS=given
    )
    assert validate(caddy, environment).returncode == 0
    missing = caddy_environment(
        tmp_path, PROXY_REGISTRY_PASSWORD_HASH=password_hash, PROXY_TLS=f"{tmp_path}/a {tmp_path}/b"
    )
    assert validate(caddy, missing).returncode != 0


def test_the_caddyfile_is_refused_without_the_registry_password_hash(
    caddy: Path, tmp_path: Path
) -> None:
    result = validate(caddy, caddy_environment(tmp_path))
    assert result.returncode != 0


# --- the proxy running ----------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with what it was sent, as JSON."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "upstream": getattr(self.server, "name", ""),
                "path": self.path,
                "x_forwarded_for": self.headers.get("X-Forwarded-For"),
                "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                "host": self.headers.get("Host"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass(frozen=True)
class Proxy:
    http_port: int
    https_port: int
    admin_port: int
    root_ca: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, int]]:
    """Local HTTP servers standing in for query-api, Grafana, the schema registry and MinIO."""
    servers = {}
    for name in ("api", "grafana", "registry", "s3"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: int(server.server_address[1]) for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def proxy(
    caddy: Path,
    password_hash: str,
    upstreams: dict[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxy]:
    home = tmp_path_factory.mktemp("caddy")
    ports = Proxy(
        free_port(), free_port(), free_port(), home / "data/caddy/pki/authorities/local/root.crt"
    )
    environment = caddy_environment(
        home,
        PROXY_BIND_HOSTS="127.0.0.1",
        PROXY_HTTP_PORT=str(ports.http_port),
        PROXY_HTTPS_PORT=str(ports.https_port),
        PROXY_ADMIN_ADDRESS=f"127.0.0.1:{ports.admin_port}",
        PROXY_REGISTRY_PASSWORD_HASH=password_hash,
        PROXY_API_HOST="localhost",
        PROXY_API_PORT=str(upstreams["api"]),
        PROXY_GRAFANA_UPSTREAM=f"127.0.0.1:{upstreams['grafana']}",
        PROXY_REGISTRY_UPSTREAM=f"127.0.0.1:{upstreams['registry']}",
        PROXY_S3_UPSTREAM=f"127.0.0.1:{upstreams['s3']}",
    )
    command = [str(caddy), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    with (home / "caddy.log").open("w") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    try:
        wait_until_serving(ports, process, home / "caddy.log")
        yield ports
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_until_serving(proxy: Proxy, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"caddy exited:\n{log.read_text()}"
        try:
            if get(proxy, "/health")[0] == 200:
                return
        except (OSError, ssl.SSLError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"caddy did not serve HTTPS in {START_TIMEOUT_S} s:\n{log.read_text()}")


def get(
    proxy: Proxy, path: str, headers: dict[str, str] | None = None, host: str = "localhost"
) -> tuple[int, dict[str, str], bytes]:
    """GET over HTTPS, to ``host`` on the loopback address, as a client that trusts only the
    proxy's local CA."""
    context = ssl.create_default_context(cafile=str(proxy.root_ca))
    connection = http.client.HTTPSConnection(host, proxy.https_port, context=context, timeout=10)
    connection._create_connection = (  # type: ignore[attr-defined]
        lambda address, *args: socket.create_connection(("127.0.0.1", address[1]), *args)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_plain_http_redirects_to_https(proxy: Proxy) -> None:
    connection = http.client.HTTPConnection("localhost", proxy.http_port, timeout=10)
    try:
        connection.request("GET", "/plates?plate=ABC")
        response = connection.getresponse()
        location = response.getheader("Location")
    finally:
        connection.close()
    assert response.status in (301, 308)
    # Caddy takes its https_port for the port clients see as 443, so the target names no port.
    assert location == "https://localhost/plates?plate=ABC"


def test_https_serves_the_api_through_the_local_ca(proxy: Proxy) -> None:
    status, _, body = get(proxy, "/plates?plate=ABC")
    assert status == 200
    seen = json.loads(body)
    assert seen["upstream"] == "api"
    assert seen["path"] == "/plates?plate=ABC"
    assert seen["x_forwarded_for"] == "127.0.0.1"  # the client, as the API's trusted proxy says


def test_the_api_learns_the_request_came_over_tls_and_for_which_host(proxy: Proxy) -> None:
    """What the console needs to mark its cookie Secure and to check a sign-in's origin."""
    _, _, body = get(proxy, "/console/sign-in", {"X-Forwarded-Proto": "http"})
    seen = json.loads(body)
    assert seen["x_forwarded_proto"] == "https"
    assert seen["host"] == f"localhost:{proxy.https_port}"


def test_a_client_forged_forwarded_for_is_replaced(proxy: Proxy) -> None:
    _, _, body = get(proxy, "/health", {"X-Forwarded-For": "203.0.113.9"})
    assert json.loads(body)["x_forwarded_for"] == "127.0.0.1"


def test_an_untrusted_client_cannot_complete_the_handshake(proxy: Proxy) -> None:
    context = ssl.create_default_context()  # the system's roots, not the local CA
    connection = http.client.HTTPSConnection(
        "localhost", proxy.https_port, context=context, timeout=10
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", "/health")
    connection.close()


def test_the_apis_metrics_are_not_served_outside(proxy: Proxy) -> None:
    status, _, body = get(proxy, "/metrics")
    assert status == 404
    assert b"upstream" not in body


def test_grafana_is_served_under_its_sub_path(proxy: Proxy) -> None:
    status, _, body = get(proxy, "/grafana/api/health")
    assert status == 200
    seen = json.loads(body)
    assert (seen["upstream"], seen["path"], seen["x_forwarded_for"]) == (
        "grafana",
        "/api/health",
        "127.0.0.1",
    )
    status, headers, _ = get(proxy, "/grafana")
    assert (status, headers["Location"]) == (308, "/grafana/")


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no credentials"),
        pytest.param(basic(REGISTRY_USER, "wrong"), id="wrong password"),
        pytest.param(basic("someone", REGISTRY_PASSWORD), id="unknown user"),
    ],
)
def test_the_registry_refuses_requests_without_its_credentials(
    proxy: Proxy, headers: dict[str, str]
) -> None:
    status, response_headers, _ = get(proxy, "/registry/subjects", headers)
    assert status == 401
    assert response_headers["Www-Authenticate"].startswith("Basic")


def test_the_registry_serves_requests_with_its_credentials(proxy: Proxy) -> None:
    status, _, body = get(proxy, "/registry/subjects", basic(REGISTRY_USER, REGISTRY_PASSWORD))
    assert status == 200
    seen = json.loads(body)
    assert (seen["upstream"], seen["path"]) == ("registry", "/subjects")


def test_the_admin_api_answers_for_the_health_check(proxy: Proxy) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.admin_port, timeout=10)
    try:
        connection.request("GET", "/config/")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_s3_is_served_on_its_own_host_with_path_and_host_unchanged(proxy: Proxy) -> None:
    """SigV4 signs the path and the Host header: both must reach MinIO as the edge sent them."""
    path = "/alpr-plate-images/edge/cam-7/2026/12/05/read.jpg?X-Amz-Signature=abc"
    status, _, body = get(proxy, path, host="s3.localhost")
    assert status == 200
    seen = json.loads(body)
    assert (seen["upstream"], seen["path"]) == ("s3", path)
    assert seen["host"] == f"s3.localhost:{proxy.https_port}"
    _, _, api_body = get(proxy, path)
    assert json.loads(api_body)["upstream"] == "api"  # the API's host does not reach MinIO
