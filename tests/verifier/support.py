"""Test support: a real HTTP(S) document server on 127.0.0.1 and signed
training credentials with status entries."""

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from credentials.document_loader import CREDENTIALS_V2
from credentials.proofs import add_proof
from credentials.status_list import MutableBitstring, encode_list
from credentials.suites import eddsa_jcs_2022, eddsa_rdfc_2022
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.multibase import encode_base58btc
from keys.multikey import Ed25519KeyPair


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    omit_length: bool = False


class DocumentServer:
    """Serves fixed responses by path and records every request it receives."""

    def __init__(self, *, tls_dir: Path | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if not route.omit_length and "Content-Length" not in route.headers:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.scheme = "http"
        self.client_context: ssl.SSLContext | None = None
        if tls_dir is not None:
            cert, key = write_self_signed_certificate(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True
            )
            self.scheme = "https"
            self.client_context = ssl.create_default_context(cafile=str(cert))
        self.port = self._httpd.server_address[1]
        self.origin = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    def start(self) -> "DocumentServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_json(self, path: str, document: Any, **route: Any) -> str:
        body = json.dumps(document).encode()
        self.routes[path] = Route(
            body=body, headers={"Content-Type": "application/json"}, **route
        )
        return self.origin + path


@contextmanager
def running_server(tls_dir: Path | None = None) -> Iterator[DocumentServer]:
    server = DocumentServer(tls_dir=tls_dir).start()
    try:
        yield server
    finally:
        server.stop()


def write_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def issuer_key(seed: int) -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(bytes([seed]) * 32)


def training_credential(
    issuer: Ed25519KeyPair,
    holder_did: str,
    code: str,
    completed: date,
    *,
    status_url: str | None = None,
    index: int = 42,
    purposes: tuple[str, ...] = ("revocation", "suspension"),
    cstf_aligned: bool = True,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Return a signed training credential, with status entries if a URL is given."""
    unsigned = build_training_credential(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
        issuer_id=issuer.controller,
        holder_id=holder_did,
        display_name="Robin EXAMPLE",
        subject=subject_by_code(code),
        completed=completed,
        cstf_aligned=cstf_aligned,
    )
    if status_url is not None:
        unsigned["credentialStatus"] = [
            {
                "id": f"{status_url}-{purpose}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": f"{status_url}-{purpose}",
            }
            for purpose in purposes
        ]
    return add_proof(
        unsigned,
        signer=issuer,
        created=created or datetime.combine(completed, dt.time(9), tzinfo=UTC),
    )


def status_list_credential(
    issuer: Ed25519KeyPair,
    url: str,
    purpose: str,
    *,
    set_indexes: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Return a signed BitstringStatusListCredential with the given bits set."""
    bits = MutableBitstring()
    for index in set_indexes:
        bits.set(index, 1)
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
            "encodedList": encode_list(bits),
        },
    }
    return add_proof(unsigned, signer=issuer, created="2025-01-01T00:00:00Z")


def sign_without_safe_mode(
    pair: Ed25519KeyPair,
    document: dict[str, Any],
    suite: str = "eddsa-jcs-2022",
    **options: str,
) -> dict[str, Any]:
    """Sign without the issuer's safe-mode check, as an outside issuer might.

    The rdfc signature covers zero bytes, because the suite cannot hash a
    document with an undefined term; only the contexts check may reject it.
    """
    config = {
        "type": "DataIntegrityProof",
        "cryptosuite": suite,
        "created": "2026-01-01T09:00:00Z",
        "verificationMethod": pair.verification_method_id,
        "proofPurpose": "assertionMethod",
        **options,
    }
    if suite == "eddsa-jcs-2022":
        signature = pair.sign(eddsa_jcs_2022.hash_data(document, config))
        proof_options = eddsa_jcs_2022.proof_options(document, config)
    else:
        signature = pair.sign(bytes(64))
        proof_options = eddsa_rdfc_2022.proof_options(document, config)
    proof = {**proof_options, "proofValue": encode_base58btc(signature)}
    return {**document, "proof": proof}
