"""Parts shared by every page of the platform: layout context, security
headers, error pages and the home page."""

import logging
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from accounts.auth import current_account, wants_json
from accounts.forms import SignOutForm
from accounts.roles import role_label
from passport.navigation import links_for
from verifier.words import spoken_date

logger = logging.getLogger(__name__)

# Pages load scripts, styles and images from this site only, and no other
# site may frame them. QR codes are PNGs served by the site itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_ERROR_MESSAGES = {
    400: "The request could not be read; check what you sent and try again.",
    403: "Your account does not have a role that may open this page.",
    404: "There is no page at this address; check the link.",
    405: "This address does not accept that kind of request.",
    413: "What you sent is too large; send a smaller file or document.",
    415: "What you sent is not of a type this address accepts.",
    429: "Too many requests; wait a minute and try again.",
    500: "Something went wrong on the server; try again later.",
}


def init_web(app: Flask) -> None:
    """Register the shared layout context, headers, errors and home page."""
    app.context_processor(_layout_context)
    app.add_template_filter(long_date)
    app.after_request(_add_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _unhandled_error)
    app.add_url_rule("/", "home", _home)


def long_date(value: date | str | None) -> str:
    """Format a date, a datetime or an ISO date text as "1 March 2027".

    Text that is not an ISO date is returned unchanged, and None as a dash.
    """
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value
    return spoken_date(day)


def _layout_context() -> dict[str, Any]:
    account = current_account()
    return {
        "account": account,
        "nav_links": links_for(account),
        "role_label": role_label,
        # formdata=None: the layout never reads the request body, which may be
        # the oversized or malformed body this page reports.
        "sign_out_form": SignOutForm(formdata=None) if account is not None else None,
    }


def _home() -> Response:
    links = links_for(current_account())
    if current_account() is None:
        return redirect(url_for("accounts.sign_in"))  # type: ignore[return-value]
    if links:
        return redirect(url_for(links[0].endpoint))  # type: ignore[return-value]
    return Response(render_template("home.html"))


def _add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages show credentials and reports: keep them out of shared caches
        # and the browser's back-button cache on a shared ward computer.
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


def _error_response(status: int, message: str) -> Any:
    if wants_json():
        response = jsonify(error=status, message=message)
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=message), status


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status < 400:
        return error
    return _error_response(status, _ERROR_MESSAGES.get(status, error.description or ""))


def _csrf_error(error: CSRFError) -> Any:
    logger.warning(
        "csrf rejected endpoint=%s reason=%s", request.endpoint, error.description
    )
    return _error_response(
        400,
        "The form had expired or did not come from this site; reload the page "
        "and send it again.",
    )


def _unhandled_error(error: Exception) -> Any:
    logger.exception("unhandled error endpoint=%s", request.endpoint)
    return _error_response(500, _ERROR_MESSAGES[500])
