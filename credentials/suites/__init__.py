"""The Data Integrity cryptosuites this project implements.

Each suite turns an unsecured document and its proof configuration into the
bytes that Ed25519 signs: SHA-256 of the canonical proof configuration
followed by SHA-256 of the canonical document (64 bytes). Each suite also
says which fields the finished proof carries besides the configuration.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credentials.errors import UnsupportedCryptosuite
from credentials.suites import eddsa_jcs_2022, eddsa_rdfc_2022

# hash_data(document, proof_config, loader, memo) -> 64 bytes
HashData = Callable[[dict[str, Any], dict[str, Any], Any, Any], bytes]
ProofOptions = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Cryptosuite:
    """The two steps of a suite that differ between suites."""

    name: str
    hash_data: HashData
    proof_options: ProofOptions


SUITES: dict[str, Cryptosuite] = {
    suite.name: suite
    for suite in (
        Cryptosuite(
            eddsa_rdfc_2022.NAME,
            eddsa_rdfc_2022.hash_data,
            eddsa_rdfc_2022.proof_options,
        ),
        Cryptosuite(
            eddsa_jcs_2022.NAME,
            eddsa_jcs_2022.hash_data,
            eddsa_jcs_2022.proof_options,
        ),
    )
}


def cryptosuite_for(name: object) -> Cryptosuite:
    """Return a supported cryptosuite by name.

    :raises UnsupportedCryptosuite: naming the value and the supported ones.
    """
    if not isinstance(name, str) or name not in SUITES:
        raise UnsupportedCryptosuite(
            f"Cryptosuite {name!r} is not supported; use one of "
            f"{', '.join(sorted(SUITES))}."
        )
    return SUITES[name]


def hash_data_for(name: object) -> HashData:
    """Return the hashing function of a supported cryptosuite.

    :raises UnsupportedCryptosuite: naming the value and the supported ones.
    """
    return cryptosuite_for(name).hash_data
