"""Time signing and verification against raw Ed25519 and the JS reference.

Run from the repository root::

    .venv/bin/python bench/verify_speed.py            # everything, about 3 min
    .venv/bin/python bench/verify_speed.py --no-js    # without node
    .venv/bin/python bench/verify_speed.py --memory-runs 1000000

One run signs twelve training credentials (the shape that
``issuer.training.build_training_credential`` issues, one per CSTF subject)
with both cryptosuites, puts the twelve rdfc credentials in a presentation,
and then times on one core, with the same documents:

* raw Ed25519 sign and verify of 64 bytes (``cryptography``), the floor;
* ``add_proof`` and ``verifier.verify_credential`` for both suites, on the
  fast path and on the general pyld path (the same code with the pinned
  contexts disabled, which is how every document was verified before the
  fast path existed);
* the cryptosuite's Verify Proof alone for both suites (read the proof,
  resolve its did:key, hash, check the signature), without the pipeline's
  data model, context, issuer, status and validity checks;
* ``verifier.verify_presentation`` of the presentation of twelve;
* Digital Bazaar's ``@digitalbazaar/vc`` ``verifyCredential`` and ``verify``
  on the same documents, installed with npm into a temporary folder;
* the first verification in a fresh Python process, reported apart;
* with ``--memory-runs N``, the resident set size over N verifications.

It prints a table of mean times with ratios to raw Ed25519 verify and to
the JavaScript reference. Results vary with the machine; compare ratios.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from credentials.document_loader import StaticDocumentLoader  # noqa: E402
from credentials.presentations import create_presentation  # noqa: E402
from credentials.proofs import (  # noqa: E402
    ASSERTION_METHOD,
    add_proof,
    parse_proof,
    resolve_verification_method,
    verify_signature,
)
from issuer.subjects import load_subjects  # noqa: E402
from issuer.training import build_training_credential  # noqa: E402
from keys.did_key import resolve_did_key  # noqa: E402
from keys.multikey import Ed25519KeyPair  # noqa: E402
from verifier import verify_credential, verify_presentation  # noqa: E402

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
PRESENTATION_SIZE = 12
CHALLENGE = "9f8c2a4e-1b7d-4c3a-8e6f-2d5b0a9c7e14"
DOMAIN = "https://hr.verifier.example"
# Completed a month ago, so every subject's credential is valid today (the
# JavaScript reference checks the validity period against the clock).
COMPLETED = date.today() - timedelta(days=30)
CREATED = f"{COMPLETED.isoformat()}T09:00:00Z"
NOW = datetime.now(UTC)
JS_SOURCE = ROOT / "tests" / "interop" / "js"
JS_BENCH = ROOT / "bench" / "js" / "verify_bench.mjs"
CONTEXTS = ROOT / "credentials" / "contexts"


class GeneralPathLoader(StaticDocumentLoader):
    """The bundled loader with no context pinned: every document takes pyld."""

    def serves_bundled(self, url: str) -> bool:
        return False


ROUNDS = 7


def time_interleaved(
    operations: dict[str, Callable[[], Any]], seconds: float
) -> dict[str, float]:
    """Return the time per call of each operation in ms.

    Each operation runs for ``seconds`` in all, split into :data:`ROUNDS`
    rounds that take turns with the other operations. The figure is the
    median over rounds of the mean time per call, so load from another
    process on a shared machine moves every operation alike and the ratios
    between them hold.
    """
    for operation in operations.values():
        for _ in range(20):
            operation()
    round_means: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            runs = 0
            start = time.perf_counter()
            elapsed = 0.0
            while elapsed < seconds / ROUNDS or runs < 5:
                operation()
                runs += 1
                elapsed = time.perf_counter() - start
            round_means[name].append(elapsed * 1000 / runs)
    return {name: statistics.median(means) for name, means in round_means.items()}


def training_credentials(issuer: Ed25519KeyPair, holder: str) -> list[dict[str, Any]]:
    """Build twelve unsigned training credentials, one per subject."""
    subjects = load_subjects()[:PRESENTATION_SIZE]
    return [
        build_training_credential(
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            issuer_id=issuer.did,
            holder_id=holder,
            display_name="Zoë Ó Briain",
            subject=subject,
            completed=COMPLETED,
            cstf_aligned=True,
        )
        for index, subject in enumerate(subjects)
    ]


def build_documents() -> dict[str, Any]:
    issuer = Ed25519KeyPair.from_seed(bytes(range(32)))
    holder = Ed25519KeyPair.from_seed(bytes(range(32, 64)))
    unsigned = training_credentials(issuer, holder.did)
    signed = {
        suite: [
            add_proof(c, signer=issuer, cryptosuite=suite, created=CREATED)
            for c in unsigned
        ]
        for suite in SUITES
    }
    presentation = add_proof(
        create_presentation(signed["eddsa-rdfc-2022"], holder=holder.did),
        signer=holder,
        cryptosuite="eddsa-rdfc-2022",
        proof_purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )
    return {
        "issuer": issuer,
        "unsigned": unsigned,
        "signed": signed,
        "presentation": presentation,
    }


def verify_proof_only(credential: dict[str, Any]) -> None:
    """Run the cryptosuite's own Verify Proof algorithm and nothing else:
    read the proof, resolve its did:key, hash and check the signature."""
    proof = parse_proof(credential)
    key = resolve_verification_method(
        proof.verification_method, ASSERTION_METHOD, resolve_did_key
    )
    if not verify_signature(credential, proof, key):
        raise SystemExit("the proof-only verification failed")


def python_timings(documents: dict[str, Any], seconds: float) -> dict[str, float]:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key()
    data = bytes(64)
    signature = key.sign(data)
    operations: dict[str, Callable[[], Any]] = {
        "raw Ed25519 sign": lambda: key.sign(data),
        "raw Ed25519 verify": lambda: public.verify(signature, data),
    }

    issuer = documents["issuer"]
    unsigned = documents["unsigned"][0]
    general = GeneralPathLoader()
    for suite in SUITES:
        credential = documents["signed"][suite][0]
        for path, loader in (("", None), (" (general path)", general)):
            outcome = verify_credential(credential, now=NOW, loader=loader)
            assert outcome.verified, outcome.checks
            operations[f"sign {suite}{path}"] = lambda s=suite, lo=loader: add_proof(
                unsigned, signer=issuer, cryptosuite=s, created=CREATED, loader=lo
            )
            operations[f"verify {suite}{path}"] = lambda c=credential, lo=loader: (
                verify_credential(c, now=NOW, loader=lo)
            )

        operations[f"verify {suite} proof only"] = lambda c=credential: (
            verify_proof_only(c)
        )

    presentation = documents["presentation"]
    for path, loader in (("", None), (" (general path)", general)):
        outcome = verify_presentation(
            presentation, challenge=CHALLENGE, domain=DOMAIN, now=NOW, loader=loader
        )
        assert outcome.verified, outcome.checks
        operations[f"verify presentation{path}"] = lambda lo=loader: (
            verify_presentation(
                presentation, challenge=CHALLENGE, domain=DOMAIN, now=NOW, loader=lo
            )
        )
    return time_interleaved(operations, seconds)


FIRST_VERIFY = """
import json, sys, time
start = time.perf_counter()
from verifier import verify_credential
imported = time.perf_counter()
document = json.loads(sys.stdin.read())
before = time.perf_counter()
result = verify_credential(document)
after = time.perf_counter()
assert result.verified, result.checks
print(json.dumps({"import_ms": (imported - start) * 1000,
                  "first_verify_ms": (after - before) * 1000}))
"""


def first_verify(credential: dict[str, Any], repeats: int = 5) -> dict[str, float]:
    """Return the median import and first-verify times of fresh processes."""
    samples = []
    for _ in range(repeats):
        completed = subprocess.run(
            [sys.executable, "-c", FIRST_VERIFY],
            input=json.dumps(credential),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        samples.append(json.loads(completed.stdout))
    middle = repeats // 2
    return {
        name: sorted(sample[name] for sample in samples)[middle]
        for name in ("import_ms", "first_verify_ms")
    }


def js_timings(documents: dict[str, Any], seconds: float) -> dict[str, float] | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print("node or npm not found: the JavaScript reference is not measured.")
        return None
    with tempfile.TemporaryDirectory(prefix="verify-bench-js-") as directory:
        for name in ("package.json", "loader.mjs"):
            shutil.copy(JS_SOURCE / name, directory)
        shutil.copy(JS_BENCH, directory)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent"],
            cwd=directory,
            check=True,
            timeout=600,
        )
        request = {
            "credentials": {suite: documents["signed"][suite][0] for suite in SUITES},
            "presentation": documents["presentation"],
            "challenge": CHALLENGE,
            "domain": DOMAIN,
            "seconds": seconds,
        }
        request_file = Path(directory) / "request.json"
        request_file.write_text(json.dumps(request), encoding="utf-8")
        completed = subprocess.run(
            [node, "verify_bench.mjs", str(request_file)],
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            env=dict(os.environ, PASSPORT_CONTEXTS_DIR=str(CONTEXTS)),
        )
        if completed.returncode != 0:
            raise SystemExit(
                f"verify_bench.mjs exited with {completed.returncode}: "
                f"{completed.stderr[-3000:]}"
            )
    measured = json.loads(completed.stdout)
    return {name: value["mean_ms"] for name, value in measured.items()}


def resident_kib() -> int:
    """Return this process's resident set size in KiB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def memory_profile(documents: dict[str, Any], runs: int) -> list[tuple[int, int]]:
    """Return (verifications done, resident KiB) at ten points of ``runs``.

    The verifications cycle through the twelve credentials of both suites.
    """
    credentials = (
        documents["signed"]["eddsa-rdfc-2022"] + (documents["signed"]["eddsa-jcs-2022"])
    )
    points = [(0, resident_kib())]
    step = max(runs // 10, 1)
    for done in range(1, runs + 1):
        result = verify_credential(credentials[done % len(credentials)], now=NOW)
        if not result.verified:
            raise SystemExit(f"verification {done} failed: {result.checks}")
        if done % step == 0:
            points.append((done, resident_kib()))
    return points


def print_table(python: dict[str, float], js: dict[str, float] | None) -> None:
    raw = python["raw Ed25519 verify"]
    rows = [
        ("raw Ed25519 sign", "raw Ed25519 sign", None),
        ("raw Ed25519 verify", "raw Ed25519 verify", "raw Ed25519 verify"),
    ]
    for suite in SUITES:
        rows += [
            (f"sign {suite}", f"sign {suite}", None),
            (f"sign {suite} (general path)", f"sign {suite} (general path)", None),
            (f"verify {suite}", f"verify {suite}", f"verify {suite}"),
            (
                f"verify {suite} (general path)",
                f"verify {suite} (general path)",
                f"verify {suite}",
            ),
            (f"verify {suite}, proof only", f"verify {suite} proof only", None),
        ]
    rows += [
        (
            f"verify presentation of {PRESENTATION_SIZE} (rdfc)",
            "verify presentation",
            "verify presentation",
        ),
        (
            f"verify presentation of {PRESENTATION_SIZE} (general path)",
            "verify presentation (general path)",
            "verify presentation",
        ),
    ]
    print()
    print("| operation | ours ms | JS ms | ours / JS | ours / raw Ed25519 verify |")
    print("|---|---:|---:|---:|---:|")
    for label, ours_key, js_key in rows:
        ours = python[ours_key]
        reference = js.get(js_key) if js and js_key else None
        js_text = f"{reference:.3f}" if reference else "-"
        ratio = f"{ours / reference:.2f}" if reference else "-"
        print(f"| {label} | {ours:.3f} | {js_text} | {ratio} | {ours / raw:.2f} |")


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time spent on each operation"
    )
    parser.add_argument("--no-js", action="store_true", help="skip the JS reference")
    parser.add_argument(
        "--memory-runs",
        type=int,
        default=0,
        help="also verify this many times and print the resident size at ten points",
    )
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    documents = build_documents()
    fresh = first_verify(documents["signed"]["eddsa-rdfc-2022"][0])
    python = python_timings(documents, args.seconds)
    js = None if args.no_js else js_timings(documents, args.seconds)
    if js is not None:
        print(f"node raw Ed25519 verify: {js['raw Ed25519 verify']:.3f} ms")
    print_table(python, js)
    print()
    print(
        f"fresh process, rdfc credential: import {fresh['import_ms']:.1f} ms, "
        f"first verify {fresh['first_verify_ms']:.2f} ms (median of 5)"
    )
    if args.memory_runs:
        print()
        print("| verifications | resident MiB |")
        print("|---:|---:|")
        for done, resident in memory_profile(documents, args.memory_runs):
            print(f"| {done} | {resident / 1024:.1f} |", flush=True)


if __name__ == "__main__":
    main()
