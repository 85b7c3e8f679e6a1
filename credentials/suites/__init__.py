"""The Data Integrity cryptosuites this project implements.

Each suite turns an unsecured document and its proof configuration into the
bytes that Ed25519 signs: SHA-256 of the canonical proof configuration
followed by SHA-256 of the canonical document (64 bytes).
"""

from collections.abc import Callable
from typing import Any

from credentials.errors import UnsupportedCryptosuite
from credentials.suites import eddsa_jcs_2022, eddsa_rdfc_2022

HashData = Callable[[dict[str, Any], dict[str, Any], Any], bytes]

SUITES: dict[str, HashData] = {
    eddsa_rdfc_2022.NAME: eddsa_rdfc_2022.hash_data,
    eddsa_jcs_2022.NAME: eddsa_jcs_2022.hash_data,
}


def hash_data_for(cryptosuite: object) -> HashData:
    """Return the hashing function of a supported cryptosuite.

    :raises UnsupportedCryptosuite: naming the value and the supported ones.
    """
    if not isinstance(cryptosuite, str) or cryptosuite not in SUITES:
        raise UnsupportedCryptosuite(
            f"Cryptosuite {cryptosuite!r} is not supported; use one of "
            f"{', '.join(sorted(SUITES))}."
        )
    return SUITES[cryptosuite]
