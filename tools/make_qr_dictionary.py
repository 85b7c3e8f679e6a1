"""Write the zlib preset dictionary of the credential QR payload format.

The dictionary is the compressed CBOR of two typical training credentials,
one per cryptosuite, with placeholder keys, ids and signatures. zlib then
finds the structure every credential shares (keys, codes, tags, the status
entries, the proof's shape) in the dictionary, so a payload carries mostly
what is particular to its credential.

The dictionary is part of the ``SP1:`` format: once payloads exist it must
never change. This script records how it was made; running it again writes
the same bytes, and ``credentials/qr_payload.py`` pins their SHA-256.

    python tools/make_qr_dictionary.py
"""

import hashlib
from datetime import date
from pathlib import Path

from credentials.proofs import add_proof
from credentials.qr_payload import DICTIONARY_FILE, credential_cbor
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.multikey import Ed25519KeyPair

HOST = "passport.example.nhs.uk"
SLUG = "example-trust"
OUTPUT = Path(__file__).resolve().parents[1] / "credentials" / DICTIONARY_FILE


def template(code: str, cryptosuite: str) -> dict:
    """Return a signed training credential with placeholder values."""
    issuer = f"did:web:{HOST}:orgs:{SLUG}"
    signer = Ed25519KeyPair.from_seed(
        bytes(32), controller=issuer, id=f"{issuer}#key-1"
    )
    holder = Ed25519KeyPair.from_seed(bytes([1]) * 32)
    credential = build_training_credential(
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        issuer_id=issuer,
        holder_id=holder.did,
        display_name="Alex EXAMPLE",
        subject=subject_by_code(code),
        completed=date(2026, 1, 1),
        cstf_aligned=True,
    )
    lists = f"https://{HOST}/orgs/{SLUG}/status"
    credential["credentialStatus"] = [
        {
            "id": f"{lists}/{purpose}/1#100000",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "100000",
            "statusListCredential": f"{lists}/{purpose}/1",
        }
        for purpose in ("revocation", "suspension")
    ]
    return add_proof(
        credential,
        signer=signer,
        cryptosuite=cryptosuite,
        created="2026-01-01T00:00:00Z",
    )


def main() -> None:
    data = credential_cbor(template("FS", "eddsa-jcs-2022")) + credential_cbor(
        template("SA2", "eddsa-rdfc-2022")
    )
    OUTPUT.write_bytes(data)
    print(f"Wrote {len(data)} bytes to {OUTPUT}")
    print(f"SHA-256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
