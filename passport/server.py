"""Running the platform under gunicorn, over HTTP or HTTPS.

HTTPS uses gunicorn's own TLS (its ``certfile`` and ``keyfile`` settings),
because the W3C VC test suites call verifier endpoints over HTTPS only.
"""

import ipaddress
import os
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from passport.app import create_app

        return create_app()


def check_tls_files(certfile: Path, keyfile: Path) -> None:
    """Load the certificate and key once, so that a bad pair stops the
    command with a clear message before gunicorn starts.

    :raises ValueError: naming the files and the TLS library's reason.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(certfile), str(keyfile))
    except (ssl.SSLError, OSError) as error:
        raise ValueError(
            f"Cannot use certificate {str(certfile)!r} with key {str(keyfile)!r}: "
            f"{error}. Give a PEM certificate and its matching unencrypted PEM key."
        ) from error


def platform_urls(
    host: str, port: int, *, https: bool = False
) -> list[tuple[str, str]]:
    """Return a label and URL for each page and API a person or system starts at.

    A server listening on every address (``0.0.0.0`` or ``::``) is reached
    locally through the loopback address.
    """
    from flask import url_for

    from accounts.roles import role_label
    from passport.app import create_app
    from passport.navigation import NAV_LINKS

    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    base = f"{'https' if https else 'http'}://{host}:{port}"
    app = create_app()
    with app.test_request_context():
        entries = [("Sign in", url_for("accounts.sign_in"))]
        for link in NAV_LINKS:
            roles = ", ".join(role_label(role) for role in link.roles)
            entries.append((f"{link.label} ({roles})", url_for(link.endpoint)))
        entries.append(
            ("VC-API credential verifier, POST", url_for("vc_api.credentials_verify"))
        )
        entries.append(
            (
                "VC-API presentation verifier, POST",
                url_for("vc_api.presentations_verify"),
            )
        )
        entries.append(
            ("Trust registry, signed", url_for("registry_admin.published_registry"))
        )
    app.extensions["platform"].engine.dispose()
    return [(label, base + path) for label, path in entries]


def public_url_port_warning(public_url: str, port: int, *, https: bool) -> str | None:
    """Return a warning when a loopback public URL names another port.

    Share links, did:web ids and status list URLs use ``PASSPORT_PUBLIC_URL``,
    not the port the server listens on, so on one machine they would point
    at a port where no server listens. A public URL on another host is left
    alone, because a proxy may forward its port to this one.
    """
    parsed = urlsplit(public_url)
    host = parsed.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    try:
        public_port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return None
    if not loopback or public_port == port:
        return None
    netloc = f"[{host}]" if ":" in host else host
    suggested = f"{'https' if https else 'http'}://{netloc}:{port}"
    return (
        f"Warning: PASSPORT_PUBLIC_URL is {public_url}, but the server listens "
        f"on port {port}, so share links and new did:web ids would name port "
        f"{public_port}. Set PASSPORT_PUBLIC_URL={suggested} and restart."
    )


def run_server(
    *,
    host: str,
    port: int,
    workers: int,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> None:
    """Serve the app with ``workers`` gunicorn processes until interrupted.

    With ``certfile`` and ``keyfile`` (PEM files) it serves HTTPS only.

    Each worker creates its own app (and database pool) after the fork.
    gunicorn's control socket lives in the data folder, so instances with
    their own ``PASSPORT_DATA_DIR`` run side by side without taking over
    each other's socket.
    """
    from passport.settings import data_dir_from_env, make_private_dir

    data_dir = data_dir_from_env(dict(os.environ))
    make_private_dir(data_dir)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "accesslog": "-",
        # The access log line contains the method and path only, because
        # query strings carry search terms such as staff names. No body or
        # header value is logged either.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "timeout": 60,
        "control_socket": str(data_dir / "gunicorn.ctl"),
    }
    if certfile is not None and keyfile is not None:
        options["certfile"] = str(certfile)
        options["keyfile"] = str(keyfile)
    _Gunicorn(options).run()
