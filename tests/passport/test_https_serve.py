"""``passport serve --certfile F --keyfile K`` serving HTTPS on 127.0.0.1.

The certificate is self-signed and made in the test; the client trusts
exactly that certificate, so a handshake only succeeds if gunicorn serves
it.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from passport.cli import main
from tests.verifier.support import (
    issuer_key,
    training_credential,
    write_self_signed_certificate,
)

PASSPORT = Path(sys.executable).with_name("passport")
# How long gunicorn may take to bind; a test that fails waits this long.
STARTUP_LIMIT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PASSPORT_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url,
        PASSPORT_KEY_PASSPHRASE=settings.key_passphrase,
        PASSPORT_SECRET_KEY=settings.secret_key,
        PASSPORT_PUBLIC_URL="https://127.0.0.1",
    )
    subprocess.run(
        [str(PASSPORT), "init"], env=env, check=True, capture_output=True, timeout=120
    )
    return env


@pytest.fixture
def https_server(environment, tmp_path):
    cert, key = write_self_signed_certificate(tmp_path / "tls")
    port = free_port()
    process = subprocess.Popen(
        [
            str(PASSPORT),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield f"https://127.0.0.1:{port}", cert, process
    finally:
        if process.poll() is None:
            stop_server(process)


def stop_server(process: subprocess.Popen) -> str:
    """Stop a server started by :func:`https_server` and return its output."""
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output.decode("utf-8", "replace")


def test_https_served_with_given_certificate(https_server):
    base, cert, process = https_server
    assert process.poll() is None, "passport serve exited early"
    context = ssl.create_default_context(cafile=str(cert))

    credential = training_credential(
        issuer_key(4), issuer_key(2).controller, "FS", date.today()
    )

    with httpx.Client(verify=context, timeout=30) as client:
        page = client.get(base + "/sign-in")
        verified = client.post(
            base + "/credentials/verify",
            content=json.dumps({"verifiableCredential": credential, "options": {}}),
            headers={"Content-Type": "application/json"},
        )
        empty = client.post(
            base + "/credentials/verify",
            content=json.dumps({"verifiableCredential": {}, "options": {}}),
            headers={"Content-Type": "application/json"},
        )

    assert page.status_code == 200
    assert "__Host-passport" in page.headers.get("set-cookie", "")
    assert verified.status_code == 200, verified.json()["errors"]
    assert verified.json()["verified"] is True
    assert empty.status_code == 400
    assert empty.json()["verified"] is False


def test_access_log_leaves_out_query(https_server):
    base, cert, process = https_server
    assert process.poll() is None, "passport serve exited early"
    context = ssl.create_default_context(cafile=str(cert))

    with httpx.Client(verify=context, timeout=30) as client:
        client.get(base + "/sign-in", params={"q": "Taylor FIXTURE"})
    log = stop_server(process)

    assert '"GET /sign-in" 200' in log
    assert "Taylor" not in log
    assert "FIXTURE" not in log


def test_plain_http_not_served(https_server):
    base, _, process = https_server
    assert process.poll() is None, "passport serve exited early"

    with pytest.raises(httpx.HTTPError):
        httpx.get(base.replace("https://", "http://") + "/sign-in", timeout=10)


def test_untrusted_client_refuses_certificate(https_server):
    base, _, _ = https_server

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(base + "/sign-in", timeout=10)


def test_bad_tls_options_rejected(environment, tmp_path, monkeypatch):
    cert, _ = write_self_signed_certificate(tmp_path / "one")
    _, other_key = write_self_signed_certificate(tmp_path / "two")
    for name in ("PASSPORT_DATA_DIR", "DATABASE_URL", "PASSPORT_KEY_PASSPHRASE"):
        monkeypatch.setenv(name, environment[name])

    mismatched = CliRunner().invoke(
        main, ["serve", "--certfile", str(cert), "--keyfile", str(other_key)]
    )
    half = CliRunner().invoke(main, ["serve", "--certfile", str(cert)])

    assert mismatched.exit_code == 2
    assert "Cannot use certificate" in mismatched.output
    assert half.exit_code == 2
    assert "give both --certfile and --keyfile" in half.output


def test_platform_urls_https(environment, monkeypatch):
    from passport.server import platform_urls

    for name in ("PASSPORT_DATA_DIR", "DATABASE_URL", "PASSPORT_KEY_PASSPHRASE"):
        monkeypatch.setenv(name, environment[name])

    urls = dict(platform_urls("127.0.0.1", 8443, https=True))

    assert urls["Sign in"] == "https://127.0.0.1:8443/sign-in"
    assert (
        urls["Trust registry, signed"] == "https://127.0.0.1:8443/trust-registry.json"
    )
