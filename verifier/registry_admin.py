"""The partnership administrator's trust registry pages and the public copy.

``/registry/`` lists the members. From there the administrator adds or
edits a member, ends a membership and publishes the registry as a signed
document. A member that left stays trusted for what it issued before. Every page
needs the partnership administrator role, which is not tied to one
organisation, and every form carries a CSRF token.

``GET /trust-registry.json`` serves the latest published document to
anyone, so that verifiers elsewhere can load it and verify offline.
"""

import json
import logging
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlmodel import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from accounts.auth import current_account, require_role
from accounts.roles import define_role
from issuer.public import VC_MEDIA_TYPES, _cacheable
from issuer.web import db_session, services
from verifier.errors import RegistryMemberInvalid
from verifier.models import RegistryMember
from verifier.registry import CSTF_KIND, TrustedIssuer
from verifier.registry_service import (
    DEFAULT_KINDS,
    MemberInput,
    as_trusted_issuer,
    end_membership,
    latest_published_registry,
    list_members,
    publish_registry,
    save_member,
)

logger = logging.getLogger(__name__)

PARTNERSHIP_ADMIN = define_role(
    "partnership_admin", "Partnership administrator", organisation_scoped=False
)

bp = Blueprint("registry_admin", __name__, template_folder="templates")


class MemberForm(FlaskForm):  # type: ignore[misc]
    """A registry member as the administrator enters it."""

    did = StringField(
        "DID (did:web or did:key)",
        validators=[DataRequired(), Length(max=500)],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Short name", validators=[Optional(), Length(max=64)])
    cstf_aligned = BooleanField("Has declared CSTF alignment")
    may_issue = StringField(
        "Credential kinds it may issue, separated by commas "
        f"({CSTF_KIND!r} is national CSTF subjects)",
        default=", ".join(DEFAULT_KINDS),
        validators=[Optional(), Length(max=500)],
    )
    member_from = DateField("Member from (UTC midnight)", validators=[Optional()])
    member_until = DateField("Member until (UTC midnight)", validators=[Optional()])
    origins = TextAreaField(
        "Origins its status lists and DID document are served from, one per line",
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3, "spellcheck": "false", "autocapitalize": "none"},
    )


class LeaveForm(FlaskForm):  # type: ignore[misc]
    """The date a member leaves."""

    left_on = DateField("Left on (UTC midnight)", validators=[DataRequired()])


class PublishForm(FlaskForm):  # type: ignore[misc]
    """Publish the registry; the form only carries the CSRF token."""


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=UTC) if day is not None else None


def _editor() -> str:
    account = current_account()
    return f"account:{account.id}" if account is not None else "anonymous"


def _member_input(form: MemberForm, did: str) -> MemberInput:
    kinds = tuple(kind.strip() for kind in (form.may_issue.data or "").split(","))
    origins = tuple(line.strip() for line in (form.origins.data or "").splitlines())
    return MemberInput(
        did=did.strip(),
        name=form.name.data or "",
        slug=(form.slug.data or "").strip(),
        cstf_aligned=bool(form.cstf_aligned.data),
        may_issue=tuple(kind for kind in kinds if kind) or DEFAULT_KINDS,
        member_from=_midnight(form.member_from.data),
        member_until=_midnight(form.member_until.data),
        origins=tuple(origin for origin in origins if origin),
    )


def _published_summary(session: Session) -> dict[str, Any] | None:
    text = latest_published_registry(session)
    if text is None:
        return None
    document = json.loads(text)
    return {
        "publisher": document.get("issuer"),
        "valid_from": document.get("validFrom"),
        "valid_until": document.get("validUntil"),
        "members": len(document.get("credentialSubject", {}).get("member", [])),
    }


@bp.get("/registry/")
@require_role(PARTNERSHIP_ADMIN)
def members() -> str:
    """List the members, the latest publication and the publish button."""
    with db_session() as session:
        rows = [(row.id, as_trusted_issuer(row)) for row in list_members(session)]
        published = _published_summary(session)
    return render_template(
        "registry/members.html",
        rows=rows,
        published=published,
        publish_form=PublishForm(),
        leave_form=LeaveForm(),
        now=datetime.now(UTC),
    )


@bp.route("/registry/members/new", methods=["GET", "POST"])
@require_role(PARTNERSHIP_ADMIN)
def add_member() -> Response | tuple[str, int] | str:
    """Show the member form; on POST, add the member."""
    form = MemberForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("registry/member_form.html", form=form, row=None), status
    return _save_form(form, form.did.data, None)


def _save_form(
    form: MemberForm, did: str, row: TrustedIssuer | None
) -> Response | tuple[str, int]:
    """Save a validated member form, or show it again with the service's error."""
    try:
        with db_session() as session:
            save_member(session, _member_input(form, did), editor=_editor())
    except RegistryMemberInvalid as error:
        page = render_template(
            "registry/member_form.html", form=form, row=row, error=str(error)
        )
        return page, 400
    flash(
        f"Saved {form.name.data}. Publish the registry to share the change.", "success"
    )
    return redirect(url_for("registry_admin.members"))


@bp.route("/registry/members/<int:member_id>/edit", methods=["GET", "POST"])
@require_role(PARTNERSHIP_ADMIN)
def edit_member(member_id: int) -> Response | tuple[str, int] | str:
    """Show a member's form filled in; on POST, save it. The DID is fixed."""
    with db_session() as session:
        row = session.get(RegistryMember, member_id)
        if row is None:
            abort(404)
        member = as_trusted_issuer(row)
    form = MemberForm()
    if not form.is_submitted():
        form.did.data = member.did
        form.name.data = member.name
        form.slug.data = member.slug
        form.cstf_aligned.data = member.cstf_aligned
        form.may_issue.data = ", ".join(sorted(member.may_issue))
        form.member_from.data = (
            member.member_from.date() if member.member_from else None
        )
        form.member_until.data = (
            member.member_until.date() if member.member_until else None
        )
        form.origins.data = "\n".join(member.origins)
        return render_template("registry/member_form.html", form=form, row=member)
    # The DID names the member in every copy already published, so it is
    # never changed here; a new DID is a new member.
    form.did.data = member.did
    if not form.validate():
        return render_template("registry/member_form.html", form=form, row=member), 400
    return _save_form(form, member.did, member)


@bp.post("/registry/members/<int:member_id>/leave")
@require_role(PARTNERSHIP_ADMIN)
def leave(member_id: int) -> Response:
    """End a membership on the given date."""
    form = LeaveForm()
    if not form.validate_on_submit():
        flash("Give the date the member left, such as 2027-01-01.", "error")
        return redirect(url_for("registry_admin.members"))
    with db_session() as session:
        row = session.get(RegistryMember, member_id)
        if row is None:
            abort(404)
        did = row.did
    at = _midnight(form.left_on.data)
    assert at is not None
    try:
        with db_session() as session:
            row = end_membership(session, did, at=at, editor=_editor())
            name = row.name
    except RegistryMemberInvalid as error:
        flash(str(error), "error")
        return redirect(url_for("registry_admin.members"))
    flash(
        f"{name} leaves on {at.date().isoformat()}; what it issued before then "
        "stays trusted. Publish the registry to share the change.",
        "success",
    )
    return redirect(url_for("registry_admin.members"))


@bp.post("/registry/publish")
@require_role(PARTNERSHIP_ADMIN)
def publish() -> Response:
    """Sign the current registry and make it the public copy."""
    if not PublishForm().validate_on_submit():
        abort(400)
    with db_session() as session:
        document = publish_registry(
            session, services().key_store, now=datetime.now(UTC), editor=_editor()
        )
    flash(
        f"Published {len(document['credentialSubject']['member'])} members, "
        f"signed by {document['issuer']}, valid until {document['validUntil']}.",
        "success",
    )
    return redirect(url_for("registry_admin.members"))


@bp.get("/trust-registry.json")
def published_registry() -> Response:
    """Serve the latest published registry document; 404 before the first."""
    with db_session() as session:
        text = latest_published_registry(session)
    if text is None:
        message = (
            "The trust registry has not been published yet; a partnership "
            "administrator publishes it at /registry/."
        )
        return Response(
            json.dumps({"error": message}), status=404, mimetype="application/json"
        )
    etag = json.loads(text).get("id", "")
    return _cacheable(text, str(etag), VC_MEDIA_TYPES)
