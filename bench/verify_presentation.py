"""Benchmark: verifying a passport presentation of 12 training credentials.

Each credential carries a revocation and a suspension status entry. The
issuer is a trust registry member whose status lists this script serves
from a local HTTP server on 127.0.0.1, so the platform fetches them through
the fence (``PASSPORT_ALLOW_HTTP_FETCH=1``) and then uses its cache.

Measures, in one run on one machine:

1. the raw Ed25519 cost of the 13 signatures (12 credentials and the
   presentation), verified with ``cryptography`` over the same hash data;
2. ``verify_presentation`` in process with no sources: the pipeline alone,
   status reported as not checked;
3. ``verify_presentation`` in process with the platform's sources (the
   registry table, fenced status list fetches, the status list cache);
4. ``POST /presentations/verify`` over HTTP against ``passport serve`` with
   two gunicorn workers, under concurrent load from a second process.

Usage::

    .venv/bin/python bench/verify_presentation.py [--calls 200] [--http-requests 400]
        [--concurrency 8] [--skip-http]

It prints p50 and p95 latency and throughput for each, and the ratios to
the raw Ed25519 cost measured in the same run.
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credentials.document_loader import CREDENTIALS_V2  # noqa: E402
from credentials.presentations import create_presentation  # noqa: E402
from credentials.proofs import AUTHENTICATION, add_proof, parse_proof  # noqa: E402
from credentials.status_list import MutableBitstring, encode_list  # noqa: E402
from credentials.suites import hash_data_for  # noqa: E402
from issuer.subjects import load_subjects  # noqa: E402
from issuer.training import build_training_credential  # noqa: E402
from keys.multikey import Ed25519KeyPair  # noqa: E402
from verifier import verify_presentation  # noqa: E402

PURPOSES = ("revocation", "suspension")

CHALLENGE = "bench-challenge-0001"
DOMAIN = "https://hr.bench.example"
# The server checks validity periods against the real clock, so the
# credentials are completed 30 days before the run and checked now.
NOW = datetime.now(UTC)
COMPLETED = NOW.date() - timedelta(days=30)
CREDENTIALS = 12


class StatusServer:
    """Serves the issuer's two signed status lists on 127.0.0.1."""

    def __init__(self, issuer: Ed25519KeyPair) -> None:
        bodies: dict[str, bytes] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests += 1
                body = bodies.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        for purpose in PURPOSES:
            url = self.list_url(purpose)
            unsigned = {
                "@context": [CREDENTIALS_V2],
                "id": url,
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": issuer.controller,
                "validFrom": "2025-01-01T00:00:00Z",
                "credentialSubject": {
                    "id": f"{url}#list",
                    "type": "BitstringStatusList",
                    "statusPurpose": purpose,
                    "encodedList": encode_list(MutableBitstring()),
                },
            }
            signed = add_proof(unsigned, signer=issuer, created="2025-01-01T00:00:00Z")
            bodies[f"/status/{purpose}"] = json.dumps(signed).encode()
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def list_url(self, purpose: str) -> str:
        return f"{self.origin}/status/{purpose}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def build_presentation(
    status: StatusServer, issuer: Ed25519KeyPair
) -> tuple[dict[str, Any], list[Ed25519KeyPair]]:
    holder = Ed25519KeyPair.from_seed(b"\x02" * 32)
    subjects = [s for s in load_subjects()][:CREDENTIALS]
    credentials = []
    for index, subject in enumerate(subjects):
        unsigned = build_training_credential(
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            issuer_id=issuer.controller,
            holder_id=holder.controller,
            display_name="Robin EXAMPLE",
            subject=subject,
            completed=COMPLETED,
            cstf_aligned=True,
        )
        unsigned["credentialStatus"] = [
            {
                "id": f"{status.list_url(purpose)}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": status.list_url(purpose),
            }
            for purpose in PURPOSES
        ]
        credentials.append(
            add_proof(unsigned, signer=issuer, created=f"{COMPLETED}T09:00:00Z")
        )
    presentation = add_proof(
        create_presentation(credentials, holder=holder.controller),
        signer=holder,
        cryptosuite="eddsa-jcs-2022",
        proof_purpose=AUTHENTICATION,
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    return presentation, [issuer, holder]


def signed_items(presentation: dict[str, Any], keys: list[Ed25519KeyPair]):
    """Return (public key, signature, message) for each of the 13 signatures."""
    issuer, holder = keys
    items = []
    for document, key in [(c, issuer) for c in presentation["verifiableCredential"]] + [
        (presentation, holder)
    ]:
        proof = parse_proof(document)
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        config = dict(proof.config)
        config.pop("@context", None)
        message = hash_data_for(proof.cryptosuite)(unsecured, config, None)
        items.append((key.public_multikey(), proof.proof_value, message))
    return items


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure_raw(items, rounds: int) -> float:
    """Return the median seconds to verify all 13 signatures once."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for public_key, signature, message in items:
            assert public_key.verify(signature, message)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_in_process(
    presentation: dict[str, Any], calls: int, sources: Any = None
) -> list[float]:
    """Return the seconds of each call; with ``sources``, every check must pass."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = verify_presentation(
            presentation,
            challenge=CHALLENGE,
            domain=DOMAIN,
            now=NOW,
            **(sources.sources() if sources is not None else {}),
        )
        times.append(time.perf_counter() - start)
        assert result.verified, [c for c in result.checks if not c.passed]
        if sources is not None:
            assert all(inner.check("status").passed for inner in result.credentials)
    return times


def prepare_database(
    folder: Path, issuer: Ed25519KeyPair, origin: str
) -> dict[str, str]:
    """Create the platform database with the issuer as a registry member.

    :returns: the environment ``passport serve`` runs with.
    """
    from passport.db import make_engine, session_scope, upgrade_database
    from verifier.registry_service import MemberInput, save_member

    env = dict(os.environ)
    env.update(
        PASSPORT_DATA_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
        PASSPORT_KEY_PASSPHRASE="bench passphrase, not a secret",
        PASSPORT_SECRET_KEY="bench secret key",
        PASSPORT_ALLOW_HTTP_FETCH="1",
    )
    upgrade_database(env["DATABASE_URL"])
    engine = make_engine(env["DATABASE_URL"])
    with session_scope(engine) as session:
        save_member(
            session,
            MemberInput(
                did=issuer.controller,
                name="Bench Trust",
                cstf_aligned=True,
                may_issue=("TrainingCredential", "cstf"),
                origins=(origin,),
            ),
            editor="bench",
        )
    engine.dispose()
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    passport = str(Path(sys.executable).with_name("passport"))
    server = subprocess.Popen(
        [
            passport,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("passport serve did not start within 30 s")


def load_client(url: str, body: bytes, requests: int, concurrency: int) -> None:
    """Run in the second process: send the requests and print the timings."""
    import httpx

    def one(client: httpx.Client) -> float:
        start = time.perf_counter()
        response = client.post(
            url, content=body, headers={"Content-Type": "application/json"}
        )
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.text[:300]}")
        return elapsed

    with httpx.Client(timeout=30) as client:
        one(client)  # warm both workers' caches before timing
        one(client)
        wall = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            times = list(pool.map(lambda _: one(client), range(requests)))
        wall = time.perf_counter() - wall
    print(json.dumps({"times": times, "wall": wall}))


def measure_http(
    presentation: dict[str, Any],
    env: dict[str, str],
    folder: Path,
    requests: int,
    concurrency: int,
) -> tuple[list[float], float]:
    body = json.dumps(
        {
            "verifiablePresentation": presentation,
            "options": {"challenge": CHALLENGE, "domain": DOMAIN},
        }
    ).encode()
    port = free_port()
    body_path = folder / "body.json"
    body_path.write_bytes(body)
    server = start_server(env, port)
    try:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--client",
                f"http://127.0.0.1:{port}/presentations/verify",
                str(body_path),
                str(requests),
                str(concurrency),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    if output.returncode != 0:
        raise SystemExit(f"the load client failed: {output.stderr.strip()[-2000:]}")
    data = json.loads(output.stdout)
    return data["times"], data["wall"]


def report(name: str, times: list[float], wall: float, raw: float) -> None:
    p50 = percentile(times, 0.50)
    p95 = percentile(times, 0.95)
    print(
        f"{name:<28} p50 {p50 * 1000:8.2f} ms  p95 {p95 * 1000:8.2f} ms  "
        f"{len(times) / wall:8.1f} presentations/s  "
        f"p50 = {p50 / raw:6.1f} x raw Ed25519"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        url, body_path, requests, concurrency = sys.argv[2:6]
        load_client(url, Path(body_path).read_bytes(), int(requests), int(concurrency))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="in-process calls")
    parser.add_argument("--http-requests", type=int, default=400, help="HTTP requests")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="HTTP requests in flight"
    )
    parser.add_argument(
        "--skip-http", action="store_true", help="measure in process only"
    )
    options = parser.parse_args()

    issuer = Ed25519KeyPair.from_seed(b"\x01" * 32)
    status = StatusServer(issuer)
    presentation, keys = build_presentation(status, issuer)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {datetime.now(UTC).date().isoformat()}; "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    print(
        f"presentation: {CREDENTIALS} credentials with 2 status entries each, "
        f"{len(json.dumps(presentation))} bytes"
    )
    raw = measure_raw(signed_items(presentation, keys), rounds=200)
    print(f"{'raw Ed25519, 13 signatures':<28} {raw * 1000:8.3f} ms")

    from passport.db import make_engine
    from passport.settings import FetchSettings
    from passport.verification import VerificationSources

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = prepare_database(folder, issuer, status.origin)
        engine = make_engine(env["DATABASE_URL"])
        sources = VerificationSources(engine, FetchSettings(allow_http=True))
        measure_in_process(presentation, 5)  # warm the context caches
        measure_in_process(presentation, 5, sources)  # fetch and cache the lists
        fetched = status.requests
        # The two ways take turns call by call, so that load from other
        # processes falls on both alike.
        bare: list[float] = []
        full: list[float] = []
        for _ in range(options.calls):
            bare += measure_in_process(presentation, 1)
            full += measure_in_process(presentation, 1, sources)
        report("in process, pipeline only", bare, sum(bare), raw)
        report("in process, platform", full, sum(full), raw)
        print(
            f"  status list requests: {fetched} while warming, then "
            f"{status.requests - fetched}"
        )
        sources.close()
        engine.dispose()

        if not options.skip_http:
            before = status.requests
            times, wall = measure_http(
                presentation, env, folder, options.http_requests, options.concurrency
            )
            report(
                f"HTTP, 2 workers, {options.concurrency} in flight", times, wall, raw
            )
            print(
                f"  status list requests during the HTTP run: "
                f"{status.requests - before}"
            )
    status.stop()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
