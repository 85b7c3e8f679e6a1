"""Fenced fetching of status lists and did:web documents.

A credential chooses the URLs a verifier would fetch, so every fetch goes
through a fence:

- the URL's origin must be one the trust registry lists for the issuer;
- the scheme must be ``https`` (``http`` only when the policy allows it,
  for local testing);
- the URL must carry no user name or password;
- a redirect is followed only to the same origin, at most a few times;
- the whole fetch must finish within the timeout and the body must stay
  under the size limit.

A URL outside the fence raises :class:`FetchRefused` before any
connection is opened, so a credential can never point the verifier at an
internal address. Proxies from the environment are ignored for the same
reason.
"""

import json
import logging
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from credentials.errors import MalformedDocument
from verifier.errors import FetchFailed, FetchRefused
from verifier.registry import origin_of

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
# A status list credential of the minimum 131,072 entries is about 1 KB when
# empty and at most about 23 KB when its bits are random; a DID document is
# a few KB. 1 MiB leaves wide room while bounding a hostile response.
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
# A refusal names at most this many of the allowed origins, so that a
# registry of many members does not fill the message.
MAX_ORIGINS_NAMED = 3
ACCEPT = "application/vc+ld+json, application/did+json, application/json"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of the fence.

    :param allow_http: also allow plain ``http`` URLs; for tests and local
        demos on 127.0.0.1 only.
    :param verify: TLS verification: True for the system's CAs, or an
        :class:`ssl.SSLContext` that trusts a test CA.
    """

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES
    allow_http: bool = False
    max_redirects: int = MAX_REDIRECTS
    verify: ssl.SSLContext | bool = True


@dataclass(frozen=True)
class FetchedDocument:
    """A parsed JSON document and when it was fetched."""

    url: str
    document: Any
    fetched_at: datetime
    size: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FencedFetcher:
    """Fetches JSON documents from allowed origins only."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout),
            verify=self.policy.verify,
            trust_env=False,
            transport=transport,
            headers={"Accept": ACCEPT},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def check_url(
        self,
        url: str,
        allowed_origins: tuple[str, ...],
        *,
        listed_for: str = "this issuer",
    ) -> None:
        """Raise :class:`FetchRefused` unless ``url`` is inside the fence.

        :param listed_for: whose origins ``allowed_origins`` are, for the
            message.
        """
        if not isinstance(url, str):
            raise FetchRefused(f"URL {url!r} is not text.")
        parts = urlsplit(url)
        schemes = ("https", "http") if self.policy.allow_http else ("https",)
        if parts.scheme.lower() not in schemes:
            raise FetchRefused(
                f"URL {url!r} does not use {' or '.join(schemes)}; it was not fetched."
            )
        if not parts.hostname:
            raise FetchRefused(f"URL {url!r} names no host; it was not fetched.")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused(
                f"URL {url!r} carries a user name or password; it was not fetched."
            )
        try:
            _ = parts.port
        except ValueError:
            raise FetchRefused(
                f"URL {url!r} has an invalid port; it was not fetched."
            ) from None
        allowed = {origin_of(origin) for origin in allowed_origins}
        if origin_of(url) not in allowed:
            shown = sorted(allowed)[:MAX_ORIGINS_NAMED]
            listed = ", ".join(shown) or "none"
            if len(allowed) > len(shown):
                listed += f" and {len(allowed) - len(shown)} more"
            raise FetchRefused(
                f"URL {url!r} is not on an origin the trust registry lists for "
                f"{listed_for} (listed: {listed}); it was not fetched."
            )

    def fetch_json(
        self,
        url: str,
        allowed_origins: tuple[str, ...],
        *,
        post: dict[str, Any] | None = None,
        listed_for: str = "this issuer",
    ) -> FetchedDocument:
        """Fetch and parse the JSON document at ``url``.

        With ``post``, the request is a POST of that JSON object, and no
        redirect is followed.

        :raises FetchRefused: if ``url``, or a redirect from it, is outside
            the fence; no request is made to such a URL.
        :raises FetchFailed: on a connection error, a timeout, a status other
            than 200, a body over the size limit, or invalid JSON.
        """
        from verifier.pipeline import parse_json_document

        self.check_url(url, allowed_origins, listed_for=listed_for)
        deadline = time.monotonic() + self.policy.timeout
        current = url
        for _ in range(self.policy.max_redirects + 1):
            status, headers, body = self._request(current, deadline, post)
            if status in (301, 302, 303, 307, 308) and post is None:
                location = headers.get("location")
                if not location:
                    raise FetchFailed(
                        f"{current!r} answered {status} without a Location header."
                    )
                target = urljoin(current, location)
                if origin_of(target) != origin_of(current):
                    raise FetchRefused(
                        f"{current!r} redirected to {target!r}, another origin; "
                        "the redirect was not followed."
                    )
                self.check_url(target, allowed_origins, listed_for=listed_for)
                current = target
                continue
            if status != 200:
                raise FetchFailed(
                    f"{current!r} answered HTTP {status}, not 200"
                    + _error_text(body)
                    + "."
                )
            try:
                document = parse_json_document(body, max_bytes=self.policy.max_bytes)
            except MalformedDocument as error:
                raise FetchFailed(
                    f"{current!r} did not return JSON: {error}"
                ) from error
            logger.debug("fetched %s (%d bytes)", current, len(body))
            return FetchedDocument(
                url=current,
                document=document,
                fetched_at=datetime.now(UTC),
                size=len(body),
                headers=headers,
            )
        raise FetchFailed(
            f"{url!r} redirected more than {self.policy.max_redirects} times."
        )

    def _request(
        self, url: str, deadline: float, post: dict[str, Any] | None
    ) -> tuple[int, dict[str, str], bytes]:
        limit = self.policy.max_bytes
        method = "GET" if post is None else "POST"
        try:
            with self._client.stream(method, url, json=post) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                if response.status_code in (301, 302, 303, 307, 308):
                    return response.status_code, headers, b""
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchFailed(
                        f"{url!r} declares {declared} bytes; the limit is {limit}."
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FetchFailed(
                            f"{url!r} sent more than {limit} bytes; the rest was "
                            "not read."
                        )
                    if time.monotonic() > deadline:
                        raise FetchFailed(
                            f"{url!r} timed out after {self.policy.timeout} s."
                        )
                    chunks.append(chunk)
                return response.status_code, headers, b"".join(chunks)
        except httpx.TimeoutException:
            raise FetchFailed(
                f"{url!r} timed out after {self.policy.timeout} s."
            ) from None
        except httpx.HTTPError as error:
            raise FetchFailed(
                f"{url!r} could not be fetched: {type(error).__name__}: {error}"
            ) from None


def _error_text(body: bytes) -> str:
    """Return ": <error>" from a JSON error body such as {"error": "..."}."""
    try:
        document = json.loads(body[:4096])
    except (ValueError, UnicodeDecodeError):
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return f": {error[:300]}" if isinstance(error, str) else ""
