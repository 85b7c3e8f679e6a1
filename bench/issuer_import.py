"""Benchmark the training export import on SQLite and PostgreSQL.

For each database it imports a synthetic export of ``--rows`` rows (10
subjects per staff member) in which every staff member already has a
wallet, so every row is signed (eddsa-rdfc-2022) and stored with its status
list entries and audit entry. It reports credentials issued per second
beside raw Ed25519 signing and single-process signing measured in the same
run, and the peak memory (resident set size) of the importing process at
``--small-rows`` and ``--rows`` rows, which must not grow with the row
count. Each import runs in a fresh process, so peak memory is its own.

    .venv/bin/python bench/issuer_import.py
    .venv/bin/python bench/issuer_import.py --rows 20000 --small-rows 2000

PostgreSQL is the server at ``PASSPORT_BENCH_POSTGRES`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each import gets
a new database, dropped afterwards.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from credentials.proofs import add_proof  # noqa: E402
from credentials.status_list import build_status_entry  # noqa: E402
from examples.synthetic_export import export_rows, write_export  # noqa: E402
from issuer.importer import (  # noqa: E402
    employee_reference,
    import_training_export,
    reference_secret,
)
from issuer.models import StaffRecord  # noqa: E402
from issuer.organisations import create_organisation, get_organisation  # noqa: E402
from issuer.subjects import subject_by_code  # noqa: E402
from issuer.training import build_training_credential  # noqa: E402
from keys.multikey import Ed25519KeyPair  # noqa: E402
from keys.store import KeyStore  # noqa: E402
from passport.db import make_engine, upgrade_database  # noqa: E402
from passport.models import import_all_models  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "PASSPORT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSPHRASE = "benchmark passphrase, not a secret"
SUBJECTS_PER_STAFF = 10
AS_OF = date(2026, 3, 31)
BASE_URL = "https://passport.example.org"


def raw_signing_rate(seconds: float = 2.0) -> float:
    """Ed25519 signatures of 64 bytes per second, as the proofs sign."""
    pair = Ed25519KeyPair.generate()
    data = bytes(64)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            pair.sign(data)
        count += 1000
    return count / (time.perf_counter() - start)


def proof_signing_rate(seconds: float = 5.0) -> float:
    """eddsa-rdfc-2022 training credentials signed per second, one process.

    The credential has the two status entries an imported one carries, and
    every proof has the same creation time, as within an import batch.
    """
    pair = Ed25519KeyPair.generate()
    credential = build_training_credential(
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        issuer_id=pair.did,
        holder_id=Ed25519KeyPair.generate().did,
        display_name="Robin TESTER",
        subject=subject_by_code("FS"),
        completed=AS_OF,
        cstf_aligned=True,
    )
    credential["credentialStatus"] = [
        build_status_entry(f"{BASE_URL}/status/{purpose}/1", purpose, 4242)
        for purpose in ("revocation", "suspension")
    ]
    add_proof(credential, signer=pair)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        add_proof(credential, signer=pair, created="2026-04-01T00:00:00Z")
        count += 1
    return count / (time.perf_counter() - start)


def _burn(rounds: int) -> int:
    total = 0
    for number in range(rounds):
        total += number * number
    return total


def parallel_capacity(workers: int) -> float:
    """How much faster ``workers`` processes run a CPU-bound loop than one.

    On an idle machine this is close to the number of cores; when other
    processes share the machine it is lower, and so is any gain from
    signing in parallel.
    """
    import multiprocessing

    timings = []
    for count in (1, workers):
        with multiprocessing.get_context("fork").Pool(count) as pool:
            start = time.perf_counter()
            pool.map(_burn, [2_000_000] * 8)
            timings.append(time.perf_counter() - start)
    return timings[0] / timings[1]


def new_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    name = f"passport_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return (
        make_url(POSTGRES_ADMIN_URL)
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        )
    admin.dispose()


def prepare(url: str, staff: int) -> None:
    """Migrate, create the organisation, and give every staff member a wallet DID."""
    upgrade_database(url)
    engine = make_engine(url)
    key_store = KeyStore(PASSPHRASE)
    secret = reference_secret(PASSPHRASE)
    with Session(engine) as session:
        organisation = create_organisation(
            session,
            key_store,
            slug="benchmark-trust",
            name="Benchmark Hospitals NHS Trust",
            org_type="acute trust",
            cstf_aligned=True,
            base_url=BASE_URL,
        )
        rows = [
            {
                "organisation_id": organisation.id,
                "employee_ref_hash": employee_reference(
                    secret, organisation, str(99000001 + number)
                ),
                "display_name": "Placeholder NAME",
                "holder_did": Ed25519KeyPair.generate().did,
                "created_at": datetime.now(UTC),
            }
            for number in range(staff)
        ]
        session.execute(insert(StaffRecord), rows)
        session.commit()
    engine.dispose()


def run_child(url: str, export: Path, workers: int) -> dict[str, Any]:
    """Import ``export`` in a fresh process and return its measurements."""
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            url,
            str(export),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"The import process exited with {completed.returncode}: "
            f"{completed.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def child(url: str, export: Path, workers: int) -> None:
    engine = make_engine(url)
    key_store = KeyStore(PASSPHRASE)
    with Session(engine, expire_on_commit=False) as session:
        organisation = get_organisation(session, "benchmark-trust")
        start = time.perf_counter()
        summary = import_training_export(
            session,
            key_store,
            organisation,
            export,
            secret=reference_secret(PASSPHRASE),
            as_of=AS_OF,
            workers=workers,
        )
        seconds = time.perf_counter() - start
    engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump(
        {
            "rows": summary.rows_read,
            "issued": summary.issued,
            "waiting": summary.waiting,
            "rejected": summary.rejected,
            "seconds": seconds,
            "peak_rss_mib": own / 1024,
            "worker_peak_rss_mib": children / 1024,
        },
        sys.stdout,
    )


def measure(kind: str, rows: int, workers: int, folder: Path) -> dict[str, Any]:
    staff = rows // SUBJECTS_PER_STAFF
    export = folder / f"export-{rows}.csv"
    if not export.exists():
        with export.open("w", encoding="utf-8", newline="") as handle:
            write_export(handle, export_rows(staff, subjects=SUBJECTS_PER_STAFF))
    url = new_database(kind, folder)
    try:
        prepare(url, staff)
        result = run_child(url, export, workers)
    finally:
        drop_database(url)
    result["database"] = kind
    result["credentials_per_second"] = result["issued"] / result["seconds"]
    print(
        f"{kind:10} {rows:>7} rows: {result['seconds']:7.1f} s, "
        f"{result['credentials_per_second']:6.1f} credentials/s, peak RSS "
        f"{result['peak_rss_mib']:.0f} MiB "
        f"(workers {result['worker_peak_rss_mib']:.0f} MiB)",
        file=sys.stderr,
    )
    return result


def main() -> None:
    import_all_models()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small-rows", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", type=int, default=1, help="Signing processes (as passport issue)."
    )
    parser.add_argument("--output", type=Path, help="Also write the results as JSON.")
    parser.add_argument(
        "--child", nargs=2, metavar=("URL", "EXPORT"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], Path(arguments.child[1]), arguments.workers)
        return

    raw = raw_signing_rate()
    single = proof_signing_rate()
    cores = os.cpu_count() or 1
    capacity = parallel_capacity(cores)
    print(
        f"raw Ed25519: {raw:,.0f} signatures/s; eddsa-rdfc-2022 in one process: "
        f"{single:,.1f} credentials/s; {cores} processes run {capacity:.2f} "
        "times as fast as one",
        file=sys.stderr,
    )
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in arguments.databases.split(","):
            for rows in (arguments.small_rows, arguments.rows):
                results.append(measure(kind, rows, arguments.workers, Path(folder)))
    report = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "workers": arguments.workers,
        "raw_ed25519_signatures_per_second": raw,
        "single_process_rdfc_credentials_per_second": single,
        "parallel_capacity": capacity,
        "imports": results,
    }
    print(json.dumps(report, indent=2))
    if arguments.output:
        arguments.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
