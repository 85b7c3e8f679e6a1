"""Benchmark: verifying a passport presentation of 12 training credentials.

Measures, in one run on one machine:

1. the raw Ed25519 cost of the 13 signatures (12 credentials and the
   presentation), verified with ``cryptography`` over the same hash data;
2. ``verify_presentation`` in process, one call after another;
3. ``POST /presentations/verify`` over HTTP against ``passport serve`` with
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
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credentials.presentations import create_presentation  # noqa: E402
from credentials.proofs import AUTHENTICATION, add_proof, parse_proof  # noqa: E402
from credentials.suites import hash_data_for  # noqa: E402
from issuer.subjects import load_subjects  # noqa: E402
from issuer.training import build_training_credential  # noqa: E402
from keys.multikey import Ed25519KeyPair  # noqa: E402
from verifier import verify_presentation  # noqa: E402

CHALLENGE = "bench-challenge-0001"
DOMAIN = "https://hr.bench.example"
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
CREDENTIALS = 12


def build_presentation() -> tuple[dict[str, Any], list[Ed25519KeyPair]]:
    issuer = Ed25519KeyPair.from_seed(b"\x01" * 32)
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
            completed=date(2025, 6, 1),
            cstf_aligned=True,
        )
        credentials.append(
            add_proof(unsigned, signer=issuer, created="2025-06-01T09:00:00Z")
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


def measure_in_process(presentation: dict[str, Any], calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = verify_presentation(
            presentation, challenge=CHALLENGE, domain=DOMAIN, now=NOW
        )
        times.append(time.perf_counter() - start)
        assert result.verified
    return times


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        PASSPORT_DATA_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
        PASSPORT_KEY_PASSPHRASE="bench passphrase, not a secret",
        PASSPORT_SECRET_KEY="bench secret key",
    )
    passport = str(Path(sys.executable).with_name("passport"))
    subprocess.run([passport, "init"], env=env, check=True, capture_output=True)
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
    presentation: dict[str, Any], requests: int, concurrency: int
) -> tuple[list[float], float]:
    body = json.dumps(
        {
            "verifiablePresentation": presentation,
            "options": {"challenge": CHALLENGE, "domain": DOMAIN},
        }
    ).encode()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        body_path = Path(folder) / "body.json"
        body_path.write_bytes(body)
        server = start_server(Path(folder), port)
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
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            server.terminate()
            server.wait(timeout=10)
    data = json.loads(output)
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

    presentation, keys = build_presentation()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {datetime.now(UTC).date().isoformat()}"
    )
    print(
        f"presentation: {CREDENTIALS} credentials, "
        f"{len(json.dumps(presentation))} bytes"
    )
    raw = measure_raw(signed_items(presentation, keys), rounds=200)
    print(f"{'raw Ed25519, 13 signatures':<28} {raw * 1000:8.3f} ms")

    measure_in_process(presentation, 5)  # warm the context caches
    wall = time.perf_counter()
    times = measure_in_process(presentation, options.calls)
    report("in process", times, time.perf_counter() - wall, raw)

    if not options.skip_http:
        times, wall = measure_http(
            presentation, options.http_requests, options.concurrency
        )
        report(f"HTTP, 2 workers, {options.concurrency} in flight", times, wall, raw)


if __name__ == "__main__":
    main()
