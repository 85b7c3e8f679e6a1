"""The verification pipeline for credentials and presentations.

Every rule is one check, reported in a fixed order so that HR and scripts
read the same report each time:

credential: ``well-formed``, ``contexts-allowed``, ``proof``,
``verification-method``, ``key-valid-at-issuance``, ``issuer-known`` and
``issuer-allowed`` (warnings only: the passport report decides trust),
``status``, ``validity-period``.

presentation: ``well-formed``, ``contexts-allowed``, ``proof``,
``verification-method``, ``challenge``, ``domain``, ``holder-binding``,
then each credential's own checks.

A check that cannot run because an earlier one failed is reported as failed
with the reason, so the report always has the same rows. The rows after a
credential's ``verification-method`` read its own claims, so they run only
when its proof and signing key both passed. Contexts always
come from the bundle. DIDs come from the resolver passed in (did:key only by
default) and status lists from the status list cache passed in (none by
default, which is reported as a warning); both fetch only through the
fence in :mod:`verifier.fetch`.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from credentials.canonicalization import (
    Memo,
    check_safe_mode,
    is_plain_json_scalar,
    pinned_quads,
)
from credentials.datamodel import (
    as_list,
    check_credential,
    check_presentation,
    issuer_id,
)
from credentials.datetimes import parse_date_time_stamp
from credentials.document_loader import DEFAULT_LOADER
from credentials.errors import (
    ContextNotAllowed,
    CredentialError,
    MalformedDocument,
    UndefinedTerm,
)
from credentials.proofs import (
    ASSERTION_METHOD,
    AUTHENTICATION,
    MAX_CACHED_DID_KEYS,
    DidResolver,
    Proof,
    check_purpose,
    copy_without,
    parse_proof,
    resolve_verification_method,
    verify_signature,
)
from credentials.suites.eddsa_jcs_2022 import NAME as JCS_CRYPTOSUITE
from keys.did_key import did_of, resolve_did_key
from keys.multikey import Ed25519PublicMultikey
from verifier.did_resolution import KeyPeriod, key_period
from verifier.registry import EMPTY_REGISTRY, IssuerRegistry
from verifier.results import VerificationResult
from verifier.status import StatusListCache, check_status
from verifier.words import purpose_words, spoken_instant

logger = logging.getLogger(__name__)

# Limits on input from outside: a training credential is about 2 KB and a
# presentation of a whole passport about 30 KB, so these leave wide room
# while bounding the work a hostile document can cause.
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_NESTING_DEPTH = 32

_CONTAINERS = (dict, list)

NOT_CHECKED = "Not checked, because the document is not well-formed."
NOT_SIGNED = (
    "Not checked, because the issuer's signature is not valid, so the "
    "document's own claims cannot be relied on."
)


def _reject_constant(name: str) -> None:
    raise MalformedDocument(
        f"The document contains {name}, which is not a JSON number (RFC 8259); "
        "send numbers as digits."
    )


def parse_json_document(
    data: str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> Any:
    """Parse JSON text from outside, within the size and nesting limits.

    :raises MalformedDocument: for oversized, invalid or too deeply nested
        JSON, naming the limit or the position of the error; also for
        ``NaN``, ``Infinity``, integers of more than 4,300 digits and strings
        with lone surrogates, which JSON text may spell but no credential
        can sign.
    """
    document = _decode_json(data, max_bytes)
    check_nesting(document)
    return document


def _decode_json(data: str | bytes, max_bytes: int) -> Any:
    """Parse JSON text within the size limit, leaving the walk over the
    result to the caller."""
    if isinstance(data, str):
        size = len(data.encode("utf-8", "surrogatepass"))
    else:
        size = len(data)
    if size > max_bytes:
        raise MalformedDocument(
            f"The document is {size} bytes; the limit is {max_bytes} bytes."
        )
    if isinstance(data, bytes):
        # JSON exchanged between systems is UTF-8 (RFC 8259), so other
        # encodings are rejected instead of guessed from the first bytes.
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MalformedDocument(
                f"The document is not UTF-8 text: byte {error.start} is invalid."
            ) from error
    try:
        document = json.loads(data, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise MalformedDocument(
            f"The document is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}."
        ) from error
    except RecursionError as error:
        raise MalformedDocument("The document is nested too deeply.") from error
    except ValueError as error:
        # Python refuses integers of more than 4,300 digits (sys.int_info).
        raise MalformedDocument(
            f"The document has an unusable number: {error}"
        ) from error
    return document


def check_nesting(document: Any, limit: int = MAX_NESTING_DEPTH) -> None:
    """Raise :class:`MalformedDocument` if ``document`` nests deeper than
    ``limit`` or contains a string that UTF-8 cannot encode (a lone surrogate)."""
    _survey(document, limit)


class Survey(NamedTuple):
    """The findings of one walk over a document."""

    contexts: list[Any]
    """Every entry of every ``@context``: URLs, inline context objects and
    the contexts nested in those."""
    plain_json: bool
    """Whether the document and every object and array in it is an exact
    ``dict`` or ``list``, every key is text, and every other value a string
    or one of the scalars JCS writes without a float formatter."""


def _survey(document: Any, limit: int = MAX_NESTING_DEPTH) -> Survey:
    """Check the document as :func:`check_nesting` does, and return its
    contexts and whether it is plain JSON, all in one walk."""
    level = [document] if isinstance(document, _CONTAINERS) else []
    contexts: list[Any] = []
    scalars: list[Any] = []
    # orjson writes a subclass of dict or list from its storage, but rfc8785
    # through the methods that the subclass may override, so only exact
    # containers make plain JSON.
    exact_containers = type(document) in _CONTAINERS
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise MalformedDocument(
                f"The document nests objects and arrays more than {limit} levels deep."
            )
        below = []
        for value in level:
            if isinstance(value, dict):
                context = value.get("@context")
                if context is not None:
                    contexts.extend(as_list(context))
                items: Any = value.values()
            else:
                items = value
            for item in items:
                kind = type(item)
                if kind is str:
                    continue
                if kind in _CONTAINERS:
                    below.append(item)
                elif isinstance(item, _CONTAINERS):
                    below.append(item)
                    exact_containers = False
                else:
                    scalars.append(item)
        level = below
    try:
        # orjson rejects, in C, any key or string with a lone surrogate, and
        # any key that is not text.
        orjson.dumps(document)
    except orjson.JSONEncodeError:
        _find_unencodable(document)
        return Survey(contexts, False)
    plain_json = exact_containers
    for scalar in scalars:
        if not is_plain_json_scalar(scalar):
            plain_json = False
            break
    return Survey(contexts, plain_json)


def _find_unencodable(document: Any) -> None:
    """Raise :class:`MalformedDocument` naming the first lone surrogate."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            _check_encodable(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    _check_encodable(key)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


def _check_encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise MalformedDocument(
            f"The document has a string with a lone surrogate at index "
            f"{error.start} ({text[:40]!r}); UTF-8 cannot encode it, so it "
            "cannot be signed."
        ) from error


def _urls_and_vocabularies(entries: list[Any]) -> tuple[list[str], list[str]]:
    """Split context entries into the URLs they name (with the URLs that
    inline contexts ``@import``) and the ``@vocab`` values that inline
    contexts set."""
    urls: list[str] = []
    vocabularies: list[str] = []
    for entry in entries:
        if isinstance(entry, dict):
            if "@vocab" in entry:
                vocabularies.append(str(entry["@vocab"]))
            if "@import" not in entry:
                continue
            # An import that is not text names no bundled context, so its
            # text form is rejected with the other URLs.
            entry = str(entry["@import"])
        if isinstance(entry, str) and entry not in urls:
            urls.append(entry)
    return urls, vocabularies


def _read_document(document: Any) -> tuple[Any, Survey]:
    """Return the document, parsed if it is JSON text, and its survey.

    :raises MalformedDocument: as :func:`parse_json_document` does.
    """
    if isinstance(document, (str, bytes)):
        document = _decode_json(document, MAX_DOCUMENT_BYTES)
    return document, _survey(document)


def _signs_json_as_written(document: dict[str, Any]) -> bool:
    """Return whether the document's proof uses eddsa-jcs-2022, which signs
    every member of the JSON as written rather than its RDF reading."""
    proof = document.get("proof")
    return isinstance(proof, dict) and proof.get("cryptosuite") == JCS_CRYPTOSUITE


def _check_contexts(
    result: VerificationResult,
    document: dict[str, Any],
    contexts: list[Any],
    loader: Any,
    memo: Memo,
) -> bool:
    """Add the ``contexts-allowed`` check.

    ``contexts`` contains the entries of every ``@context`` in the document,
    the proof's included.
    """
    urls, vocabularies = _urls_and_vocabularies(contexts)
    # An inline context could still redefine a protected term or be invalid
    # in other ways that only expansion finds, so a jcs document with one
    # takes the full check too.
    as_written = _signs_json_as_written(document) and all(
        isinstance(entry, str) for entry in contexts
    )
    if not as_written:
        unsecured = copy_without(document, "proof")
        if pinned_quads(unsecured, loader, memo) is not None:
            # Every context of a document that converts on the fast path is
            # pinned, so only the proof's own contexts are left to look at.
            urls = _urls_and_vocabularies(_survey(document.get("proof")).contexts)[0]
    refused = [url for url in urls if not loader.allows(url)]
    if refused:
        result.add(
            "contexts-allowed",
            False,
            "Context " + ", ".join(repr(url) for url in refused) + " is not one "
            "of the bundled contexts, so it was not loaded.",
        )
        return False
    if vocabularies:
        # An inline vocabulary gives an IRI to every term the document does
        # not define, which hides those terms from the check below. Only the
        # bundled contexts may set one.
        result.add(
            "contexts-allowed",
            False,
            "An inline context sets @vocab to "
            + ", ".join(repr(vocab) for vocab in vocabularies)
            + "; remove it and define each term in a bundled context.",
        )
        return False
    if as_written:
        # JSON-LD expansion guards an RDF signature against terms it would
        # drop unsigned. JCS signs every member as written, so expansion
        # cannot drop anything that the signature covers.
        result.add(
            "contexts-allowed",
            True,
            "Every context is bundled; the eddsa-jcs-2022 signature covers "
            "every member as written.",
        )
        return True
    try:
        check_safe_mode(unsecured, loader, memo)
    except (ContextNotAllowed, UndefinedTerm) as error:
        result.add("contexts-allowed", False, str(error))
        return False
    except MalformedDocument as error:
        result.add("contexts-allowed", False, str(error))
        return False
    result.add(
        "contexts-allowed",
        True,
        "Every context is bundled and every term is defined.",
    )
    return True


def _check_proof(
    result: VerificationResult,
    document: dict[str, Any],
    *,
    purpose: str,
    expected_controller: str | None,
    controller_role: str,
    resolve_did: DidResolver,
    loader: Any,
    memo: Memo,
) -> Proof | None:
    """Add the ``proof`` and ``verification-method`` checks; return the proof."""
    try:
        proof = parse_proof(document)
    except CredentialError as error:
        result.add("proof", False, str(error))
        result.add(
            "verification-method", False, "Not checked, because the proof is unusable."
        )
        return None

    key: Ed25519PublicMultikey | None
    try:
        key = resolve_verification_method(
            proof.verification_method, purpose, resolve_did
        )
        key_problem = None
    except CredentialError as error:
        key, key_problem = None, str(error)

    if key is None:
        result.add(
            "proof",
            False,
            "The signature could not be checked, because its key could not be "
            "resolved.",
        )
    else:
        try:
            valid = verify_signature(document, proof, key, loader, memo)
        except CredentialError as error:
            result.add("proof", False, f"The signature could not be checked: {error}")
        else:
            if valid:
                result.add(
                    "proof",
                    True,
                    f"The {proof.cryptosuite} signature is valid: the document "
                    "has not been changed since it was signed.",
                )
            else:
                result.add(
                    "proof",
                    False,
                    f"The {proof.cryptosuite} signature does not match: the "
                    "document was changed after signing, or signed with another "
                    "key.",
                )

    if key_problem is not None:
        result.add("verification-method", False, key_problem)
    elif expected_controller is None:
        result.add(
            "verification-method",
            False,
            f"The document names no {controller_role}, so the signing key "
            "cannot be tied to anyone.",
        )
    elif did_of(proof.verification_method) != expected_controller:
        result.add(
            "verification-method",
            False,
            f"The signing key {proof.verification_method!r} belongs to "
            f"{did_of(proof.verification_method)!r}, not to the {controller_role} "
            f"{expected_controller!r}.",
        )
    else:
        result.add(
            "verification-method",
            True,
            f"The signing key belongs to the {controller_role} and is authorised "
            f"for {purpose_words(purpose)}.",
        )
    return proof


def _check_validity(
    result: VerificationResult, document: dict[str, Any], now: datetime
) -> None:
    valid_from = document.get("validFrom")
    valid_until = document.get("validUntil")
    if valid_from is not None and parse_date_time_stamp(valid_from) > now:
        result.add(
            "validity-period",
            False,
            f"Not valid yet: valid from {spoken_instant(valid_from)} ({valid_from}).",
        )
    elif valid_until is not None and parse_date_time_stamp(valid_until) < now:
        result.add(
            "validity-period",
            False,
            f"Expired: valid until {spoken_instant(valid_until)} ({valid_until}).",
        )
    elif valid_until is not None:
        result.add(
            "validity-period",
            True,
            f"Valid until {spoken_instant(valid_until)} ({valid_until}).",
        )
    else:
        result.add("validity-period", True, "Valid, with no end date.")


def _skip(result: VerificationResult, ids: tuple[str, ...], reason: str) -> None:
    for check_id in ids:
        result.add(check_id, False, reason)


CREDENTIAL_CHECKS = (
    "well-formed",
    "contexts-allowed",
    "proof",
    "verification-method",
    "key-valid-at-issuance",
    "issuer-known",
    "issuer-allowed",
    "status",
    "validity-period",
)


class Issuance(NamedTuple):
    """The issuance time a credential states, as written and as an instant."""

    stamp: str
    instant: datetime


def _issuance(document: dict[str, Any], proof: Proof | None) -> Issuance | None:
    """Return the issuance time of a credential: the proof's ``created`` if
    it parses, else ``validFrom`` if it parses, else None."""
    for value in (proof.created if proof else None, document.get("validFrom")):
        if isinstance(value, str):
            try:
                return Issuance(value, parse_date_time_stamp(value))
            except CredentialError:
                continue
    return None


@lru_cache(maxsize=MAX_CACHED_DID_KEYS)
def _did_key_period(method: str) -> KeyPeriod:
    # A did:key document is derived from the key alone, so it never
    # changes. lru_cache does not store exceptions.
    return key_period(resolve_did_key(did_of(method)), method)


def _check_key_period(
    result: VerificationResult,
    proof: Proof,
    issuance: Issuance | None,
    resolve_did: DidResolver,
) -> None:
    """Add the ``key-valid-at-issuance`` check for a proof that passed."""
    check_id = "key-valid-at-issuance"
    method = proof.verification_method
    try:
        if resolve_did is resolve_did_key:
            period = _did_key_period(method)
        else:
            period = key_period(resolve_did(did_of(method)), method)
    except Exception as error:  # any resolver failure is a failed check
        result.add(check_id, False, f"The key's history could not be read: {error}")
        return
    if issuance is None:
        result.add(
            check_id,
            False,
            "The document states no proof creation time or validFrom, so the "
            "key cannot be checked at issuance.",
        )
        return
    signed = issuance.instant
    if period.compromised is not None and signed >= period.compromised:
        result.add(
            check_id,
            False,
            f"Signed on {signed.isoformat()}, on or after "
            f"{period.compromised.isoformat()}, when the issuer reported the key "
            "compromised.",
        )
    elif period.revoked is not None and signed >= period.revoked:
        result.add(
            check_id,
            False,
            f"Signed on {signed.isoformat()} with a key the issuer retired on "
            f"{period.revoked.isoformat()}.",
        )
    elif period.created is not None and signed < period.created:
        result.add(
            check_id,
            False,
            f"Signed on {signed.isoformat()}, before the key came into use on "
            f"{period.created.isoformat()}.",
        )
    else:
        result.add(
            check_id,
            True,
            "The key was in use when the document was signed on "
            f"{spoken_instant(issuance.stamp)} ({issuance.stamp}).",
        )


def verify_credential(
    document: Any,
    *,
    now: datetime | None = None,
    registry: IssuerRegistry = EMPTY_REGISTRY,
    resolve_did: DidResolver = resolve_did_key,
    loader: Any = None,
    status_lists: StatusListCache | None = None,
) -> VerificationResult:
    """Verify a credential and return one check per rule.

    :param document: the parsed credential, or its JSON text or bytes (parsed
        within :data:`MAX_DOCUMENT_BYTES`).
    :param now: the instant to check the validity period against (default:
        the current time).
    :param registry: the partnership's issuers; an issuer outside it is a
        warning that does not make the result unverified.
    :param resolve_did: returns the DID document for a DID (default: did:key,
        resolved locally).
    :param status_lists: fetches and caches status lists; None reports the
        ``status`` check as a warning that live status was not checked.
    :returns: a :class:`VerificationResult`; it never raises for bad input.
    """
    result = VerificationResult()
    loader = loader or DEFAULT_LOADER
    now = now or datetime.now(UTC)
    try:
        document, survey = _read_document(document)
    except MalformedDocument as error:
        result.add("well-formed", False, str(error))
        _skip(result, CREDENTIAL_CHECKS[1:], NOT_CHECKED)
        return result

    problems = check_credential(document)
    if problems:
        result.add("well-formed", False, " ".join(problems))
        _skip(result, CREDENTIAL_CHECKS[1:], NOT_CHECKED)
        return result
    result.document = document
    result.add("well-formed", True, "The credential follows the VC Data Model 2.0.")
    _verify_well_formed_credential(
        result, document, survey, now, registry, resolve_did, loader, status_lists
    )
    return result


def _verify_well_formed_credential(
    result: VerificationResult,
    document: dict[str, Any],
    survey: Survey,
    now: datetime,
    registry: IssuerRegistry,
    resolve_did: DidResolver,
    loader: Any,
    status_lists: StatusListCache | None,
) -> None:
    proof = None
    issuer = issuer_id(document)
    memo = Memo(plain_json=survey.plain_json)
    if not _check_contexts(result, document, survey.contexts, loader, memo):
        _skip(
            result,
            ("proof", "verification-method"),
            "Not checked, because the contexts are not allowed.",
        )
    else:
        proof = _check_proof(
            result,
            document,
            purpose=ASSERTION_METHOD,
            expected_controller=issuer,
            controller_role="issuer",
            resolve_did=resolve_did,
            loader=loader,
            memo=memo,
        )

    # _check_proof adds the proof and verification-method rows last.
    if proof is None or not all(check.passed for check in result.checks[-2:]):
        # The rows below read the document's own claims (dates, issuer,
        # status list addresses). Without a valid signature by the issuer's
        # key those claims are untrusted, and a status list address in them
        # would even be fetched.
        _skip(result, CREDENTIAL_CHECKS[4:], NOT_SIGNED)
        return

    issuance = _issuance(document, proof)
    _check_key_period(result, proof, issuance, resolve_did)

    member = registry.lookup(issuer)
    if member is not None:
        result.add(
            "issuer-known",
            True,
            f"Issued by {member.name}, which the trust registry lists; "
            "its membership dates are checked next.",
        )
    else:
        result.add(
            "issuer-known",
            False,
            f"Issuer {issuer!r} is not a member of the partnership; decide "
            "whether to accept it.",
            severity="warning",
        )
    assessment = registry.assess(
        issuer, document, None if issuance is None else issuance.instant
    )
    result.add(
        "issuer-allowed",
        assessment.allowed,
        assessment.message,
        severity="warning",
    )

    outcome = check_status(
        document,
        lists=status_lists,
        allowed_origins=member.origins if member is not None else (),
        now=now,
        # Without lists nothing is fetched, so nothing needs verifying.
        verify_list=None
        if status_lists is None
        else _list_verifier(now, registry, resolve_did, loader),
    )
    result.add(
        "status",
        outcome.passed,
        outcome.message,
        severity="warning" if outcome.warning else "error",
        reason=outcome.reason,
    )
    _check_validity(result, document, now)


def _list_verifier(
    now: datetime, registry: IssuerRegistry, resolve_did: DidResolver, loader: Any
) -> Callable[[dict[str, Any]], list[str]]:
    """Return a function that verifies a fetched status list credential with
    the same sources and returns its failed checks, one sentence each."""

    def verify_list(status_list: dict[str, Any]) -> list[str]:
        inner = verify_credential(
            status_list,
            now=now,
            registry=registry,
            resolve_did=resolve_did,
            loader=loader,
        )
        return [
            f"{check.id}: {check.message}"
            for check in inner.checks
            if not check.passed and check.severity == "error"
        ]

    return verify_list


PRESENTATION_CHECKS = (
    "well-formed",
    "contexts-allowed",
    "proof",
    "verification-method",
    "challenge",
    "domain",
    "holder-binding",
)


def _holder_id(presentation: dict[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def verify_presentation(
    document: Any,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime | None = None,
    registry: IssuerRegistry = EMPTY_REGISTRY,
    resolve_did: DidResolver = resolve_did_key,
    loader: Any = None,
    status_lists: StatusListCache | None = None,
) -> VerificationResult:
    """Verify a presentation and each credential in it.

    The presentation's proof must have purpose ``authentication``, be made by
    a key of its ``holder``, and carry exactly the expected ``challenge`` and
    ``domain``; every credential's subject must be that holder.

    :param challenge: the challenge the verifier issued. None fails the
        ``challenge`` check, since a presentation without one can be replayed.
    :param domain: the verifier's domain; None fails the ``domain`` check.
    :returns: a :class:`VerificationResult` whose ``credentials`` holds each
        credential's result; it never raises for bad input.
    """
    result = VerificationResult()
    loader = loader or DEFAULT_LOADER
    now = now or datetime.now(UTC)
    try:
        document, survey = _read_document(document)
    except MalformedDocument as error:
        result.add("well-formed", False, str(error))
        _skip(result, PRESENTATION_CHECKS[1:], NOT_CHECKED)
        return result

    problems = check_presentation(document)
    if problems:
        result.add("well-formed", False, " ".join(problems))
        _skip(result, PRESENTATION_CHECKS[1:], NOT_CHECKED)
        return result
    result.document = document
    result.add("well-formed", True, "The presentation follows the VC Data Model 2.0.")

    holder = _holder_id(document)
    proof = None
    memo = Memo(plain_json=survey.plain_json)
    if _check_contexts(result, document, survey.contexts, loader, memo):
        proof = _check_proof(
            result,
            document,
            purpose=AUTHENTICATION,
            expected_controller=holder,
            controller_role="holder",
            resolve_did=resolve_did,
            loader=loader,
            memo=memo,
        )
    else:
        _skip(
            result,
            ("proof", "verification-method"),
            "Not checked, because the contexts are not allowed.",
        )

    _check_challenge_and_domain(result, proof, challenge, domain)

    credentials = as_list(document.get("verifiableCredential", []))
    unbound = [
        index
        for index, credential in enumerate(credentials)
        if holder is None
        or any(
            isinstance(subject, dict) and subject.get("id") != holder
            for subject in as_list(credential.get("credentialSubject"))
        )
    ]
    if not credentials:
        result.add("holder-binding", False, "The presentation holds no credentials.")
    elif unbound:
        result.add(
            "holder-binding",
            False,
            f"Credential(s) {', '.join(str(i + 1) for i in unbound)} name a "
            f"subject other than the holder {holder!r}.",
        )
    else:
        result.add(
            "holder-binding",
            True,
            "Every credential was issued to the holder who signed the presentation.",
        )

    for credential in credentials:
        inner = VerificationResult()
        inner.document = credential
        inner.add("well-formed", True, "The credential follows the VC Data Model 2.0.")
        # Walked again only for its own contexts: the presentation's walk
        # has checked its nesting already.
        _verify_well_formed_credential(
            inner,
            credential,
            _survey(credential),
            now,
            registry,
            resolve_did,
            loader,
            status_lists,
        )
        result.credentials.append(inner)
    return result


def _check_challenge_and_domain(
    result: VerificationResult,
    proof: Proof | None,
    challenge: str | None,
    domain: str | None,
) -> None:
    if proof is None:
        _skip(
            result,
            ("challenge", "domain"),
            "Not checked, because the proof is unusable.",
        )
        return
    if challenge is None:
        result.add(
            "challenge",
            False,
            "No expected challenge was given, so the presentation could be a replay.",
        )
    else:
        problems = check_purpose(proof, AUTHENTICATION, challenge=challenge)
        if problems:
            result.add("challenge", False, " ".join(problems))
        else:
            result.add("challenge", True, "The challenge matches the one issued.")
    if domain is None:
        result.add("domain", False, "No expected domain was given.")
    elif domain not in proof.domain:
        result.add(
            "domain",
            False,
            f"The presentation was made for domain {proof.config.get('domain')!r}, "
            f"not {domain!r}.",
        )
    else:
        result.add("domain", True, f"The presentation was made for {domain}.")
