"""Fixtures that install and run the JavaScript side of the interop tests.

The node project in ``tests/interop/js`` is copied to a temporary folder and
installed from the npm registry once per session, so the work tree never gets
a ``node_modules`` folder. The tests are skipped only when ``node`` or
``npm`` is missing. A failed install is an error, because skipping would hide
a broken dependency pin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
JS_SOURCE_DIR = Path(__file__).resolve().parent / "js"
CONTEXTS_DIR = PROJECT_ROOT / "credentials" / "contexts"

# Upper bounds for a stuck process, not performance limits: an install takes
# a few seconds and one CLI call about half a second.
NPM_INSTALL_TIMEOUT_SECONDS = 600
CLI_TIMEOUT_SECONDS = 300


class InteropCliError(RuntimeError):
    """The interop CLI failed a request or did not return JSON."""


class InteropCli:
    """Runner for ``interop.mjs`` in an installed copy of the node project."""

    def __init__(self, directory: Path, node: str) -> None:
        self.directory = directory
        self.node = node

    def run(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send ``requests`` as one batch and return the responses in order.

        Raises ``InteropCliError`` when the CLI does not return one JSON
        response per request or any request failed. A verification that
        returns ``verified: false`` is a response, not a failure.
        """
        env = dict(os.environ, PASSPORT_CONTEXTS_DIR=str(CONTEXTS_DIR))
        completed = subprocess.run(
            [self.node, "interop.mjs"],
            cwd=self.directory,
            env=env,
            input=json.dumps(list(requests)),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        try:
            output = json.loads(completed.stdout)
        except json.JSONDecodeError as error:
            raise InteropCliError(
                f"interop.mjs exited with {completed.returncode} and printed "
                f"{completed.stdout[:2000]!r} (stderr {completed.stderr[:2000]!r}), "
                "expected JSON; run it by hand with the same request."
            ) from error
        if isinstance(output, dict):
            # The CLI failed before handling the batch (bad input or setup).
            raise InteropCliError(
                f"interop.mjs rejected the batch: {output.get('error')!r}; "
                "fix the request or the node install."
            )
        if not isinstance(output, list) or len(output) != len(requests):
            raise InteropCliError(
                f"interop.mjs returned {output!r}, expected a list of "
                f"{len(requests)} responses; check the CLI."
            )
        failures = [
            f"request {index} ({requests[index].get('operation')!r}): "
            f"{response.get('error')!r}"
            for index, response in enumerate(output)
            if "verified" not in response and "error" in response
        ]
        if failures:
            raise InteropCliError("interop.mjs failed " + "; ".join(failures) + ".")
        return output

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its response."""
        return self.run([request])[0]


@pytest.fixture(scope="session")
def interop_cli(tmp_path_factory: pytest.TempPathFactory) -> InteropCli:
    """Install the node project in a temporary folder and return its runner."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if not path]
    if node is None or npm is None:
        pytest.skip(
            f"{' and '.join(missing)} not found on PATH; install Node.js 18 or "
            "later with npm to run the JavaScript interoperability tests."
        )
    directory = tmp_path_factory.mktemp("interop-js")
    shutil.copytree(
        JS_SOURCE_DIR,
        directory,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("node_modules", "package-lock.json"),
    )
    # NOTE: without a lockfile only the five direct dependencies are pinned, so
    # each install resolves jsonld, rdf-canonize and the rest to their newest
    # matching releases.
    completed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=NPM_INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"npm install in {directory} exited with {completed.returncode}: "
            f"{completed.stderr[-4000:]!r}; check the registry and the pins in "
            "tests/interop/js/package.json."
        )
    return InteropCli(directory, node)
