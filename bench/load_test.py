"""Load-test the VC-API verifier endpoints of ``passport serve``.

Run from the repository root (needs ``wrk``: ``apt-get install wrk``)::

    .venv/bin/python bench/load_test.py
    .venv/bin/python bench/load_test.py --workers 2 --seconds 20 --connections 8

The script initialises a demo platform in a temporary folder, starts
``passport serve --workers N`` on a free loopback port, and drives it from a
second process, wrk, with a fixed request body per endpoint:

* ``POST /credentials/verify`` with one signed training credential;
* ``POST /presentations/verify`` with a presentation of twelve of them.

Each run stops after ``--seconds`` or ``--max-requests`` requests, whichever
comes first. Every response must be a 200 with ``verified: true``; any other
status fails the run. It prints throughput and the p50, p95 and p99 latency.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from verify_speed import CHALLENGE, DOMAIN, build_documents, machine  # noqa: E402

PASSPORT = Path(sys.executable).parent / "passport"
STARTUP_TIMEOUT_SECONDS = 120

# wrk runs this in each of its threads. It counts requests so the run stops
# at a fixed count as well as at the time limit, and prints the latency
# percentiles as JSON at the end (wrk's own --latency report has no p95).
WRK_SCRIPT = """
local max_requests = 0
local sent = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  wrk.headers["Content-Type"] = "application/json"
  file:close()
  max_requests = tonumber(args[2])
end

function request()
  sent = sent + 1
  return wrk.format()
end

function response(status, headers, body)
  if sent >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"passport serve exited with {server.returncode}.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"passport serve did not listen on port {port} in time.")


def post_json(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def request_bodies() -> dict[str, bytes]:
    documents = build_documents()
    credential = documents["signed"]["eddsa-rdfc-2022"][0]
    return {
        "/credentials/verify": json.dumps(
            {"verifiableCredential": credential, "options": {}}
        ).encode(),
        "/presentations/verify": json.dumps(
            {
                "verifiablePresentation": documents["presentation"],
                "options": {"challenge": CHALLENGE, "domain": DOMAIN},
            }
        ).encode(),
    }


def run_wrk(
    wrk: str,
    url: str,
    body_file: Path,
    script: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    completed = subprocess.run(
        [
            wrk,
            "--threads",
            "1",
            "--connections",
            str(args.connections),
            "--duration",
            f"{args.seconds}s",
            "--timeout",
            "10s",
            "--script",
            str(script),
            url,
            "--",
            str(body_file),
            str(args.max_requests),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=args.seconds + 60,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--seconds", type=int, default=20, help="time limit per endpoint"
    )
    parser.add_argument(
        "--max-requests", type=int, default=50_000, help="request limit per endpoint"
    )
    parser.add_argument(
        "--connections", type=int, default=8, help="concurrent connections"
    )
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed; install it with apt-get install wrk.")
    print(f"machine: {machine()}")
    print(
        f"server: passport serve --workers {args.workers}; client: wrk, 1 thread, "
        f"{args.connections} connections, at most {args.seconds} s and "
        f"{args.max_requests} requests per endpoint"
    )

    with tempfile.TemporaryDirectory(prefix="passport-load-") as directory:
        folder = Path(directory)
        env = {
            **os.environ,
            "PASSPORT_DATA_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'passport.db'}",
        }
        subprocess.run(
            [str(PASSPORT), "init", "--demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = (folder / "serve.log").open("wb")
        server = subprocess.Popen(
            [
                str(PASSPORT),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env={**env, "PASSPORT_PUBLIC_URL": base_url},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(port, server)
            script = folder / "post.lua"
            script.write_text(WRK_SCRIPT, encoding="utf-8")
            rows = []
            for path, body in request_bodies().items():
                status, answer = post_json(base_url + path, body)
                if status != 200 or answer.get("verified") is not True:
                    raise SystemExit(f"{path} answered {status}: {answer}")
                body_file = folder / (path.strip("/").replace("/", "-") + ".json")
                body_file.write_bytes(body)
                rows.append(
                    (path, run_wrk(wrk, base_url + path, body_file, script, args))
                )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            log.close()
        failed = [
            f"POST {path}: {result['non_2xx']} responses other than 2xx and "
            f"{result['errors']} socket errors"
            for path, result in rows
            if result["non_2xx"] or result["errors"]
        ]
        if failed:
            server_log = (folder / "serve.log").read_text(errors="replace")
            raise SystemExit(
                "; ".join(failed)
                + ". The last lines of the server log:\n"
                + "\n".join(server_log.splitlines()[-20:])
            )

    print()
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for path, result in rows:
        seconds = result["duration_us"] / 1e6
        print(
            f"| POST {path} | {result['requests']} | "
            f"{result['requests'] / seconds:.0f} | {result['p50_us'] / 1000:.1f} | "
            f"{result['p95_us'] / 1000:.1f} | {result['p99_us'] / 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
