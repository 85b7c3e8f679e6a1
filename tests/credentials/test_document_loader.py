import hashlib
from importlib import resources

import pytest

from credentials.document_loader import (
    CREDENTIALS_V2,
    StaticDocumentLoader,
    bundled_context_files,
    bundled_document,
)
from credentials.errors import ContextNotAllowed

# sha256 of the bytes as published in the npm packages named in
# credentials/contexts/CONTEXTS.md.
NPM_HASHES = {
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "credentials-v1.jsonld": "00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8",
    "credentials-undefined-terms-v2.jsonld": "82dab514ba44eb18f5d1b0f638c5e140c6a556fbfb5089601bdc0fa5eb8b2581",
    "data-integrity-v2.jsonld": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    "data-integrity-v1.jsonld": "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
    "multikey-v1.jsonld": "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
    "bitstring-status-list-v1.jsonld": "fd08cbf28ddd829ab2f1978c48f43ab07a112c1c90245a0cfac7ba721c65170c",
    "did-v1.jsonld": "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    "ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "ob-v3p0-context.json": "9f1c8f9f361ba2994b9b50701f41149919542c50c7b7455b2846d87959295d72",
}


@pytest.mark.parametrize(("file_name", "expected"), sorted(NPM_HASHES.items()))
def test_vendored_context_unchanged(file_name, expected):
    path = resources.files("credentials").joinpath("contexts", file_name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == expected


def test_every_indexed_file_exists():
    for file_name in bundled_context_files().values():
        assert resources.files("credentials").joinpath("contexts", file_name).is_file()


def test_bundled_context_served_static():
    remote = StaticDocumentLoader()(CREDENTIALS_V2, {})
    assert remote["tag"] == "static"
    assert remote["documentUrl"] == CREDENTIALS_V2
    assert "@context" in remote["document"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/ns/credentials/examples/v2",
        "http://127.0.0.1:1/context.jsonld",
        "https://www.w3.org/ns/credentials/v2/",
        "file:///etc/passwd",
    ],
)
def test_other_url_rejected_by_name(url):
    with pytest.raises(ContextNotAllowed) as caught:
        StaticDocumentLoader()(url, {})
    assert caught.value.url == url
    assert url in str(caught.value)


def test_extra_documents_served():
    loader = StaticDocumentLoader({"https://test.example/ctx": {"@context": {}}})
    assert loader("https://test.example/ctx", {})["document"] == {"@context": {}}


def test_bundled_document_is_a_copy():
    first = bundled_document(CREDENTIALS_V2)
    first["@context"]["id"] = "changed"
    assert bundled_document(CREDENTIALS_V2)["@context"]["id"] == "@id"
