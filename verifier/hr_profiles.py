"""HR administrators' pages for role requirement profiles.

Profiles are data (:mod:`verifier.requirements`): each lists the subject
codes a role needs at their minimum level. HR officers see them; only HR
administrators create and change them, through :func:`save_profile`, which
rejects unknown codes and repeats with a message naming them.
"""

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from accounts.auth import current_account, database_session, require_role
from accounts.roles import Role, define_role
from audit.log import record_event
from verifier.errors import ProfileInvalid, ProfileNotFound
from verifier.forms import ProfileForm
from verifier.requirements import (
    get_profile,
    list_profiles,
    parse_requirements,
    save_profile,
    seed_profiles,
    subject_title,
    subjects_by_code,
)

logger = logging.getLogger(__name__)

HR_ADMIN = define_role("hr_admin", "HR administrator")

bp = Blueprint(
    "hr_profiles", __name__, url_prefix="/hr/profiles", template_folder="templates"
)


@bp.get("/")
@require_role(Role.HR, HR_ADMIN)
def index() -> str:
    """List the role profiles and what each requires."""
    with database_session() as db:
        profiles = list_profiles(db)
        if not profiles:
            seed_profiles(db)
            profiles = list_profiles(db)
    account = current_account()
    return render_template(
        "hr/profiles.html",
        profiles=profiles,
        subject_title=subject_title,
        can_edit=account is not None and account.has_role(HR_ADMIN),
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<slug>", methods=["GET", "POST"])
@require_role(HR_ADMIN)
def edit(slug: str | None = None) -> Any:
    """Show a profile's form; on POST, save it."""
    form = ProfileForm()
    if slug is not None and not form.is_submitted():
        with database_session() as db:
            try:
                profile = get_profile(db, slug)
            except ProfileNotFound:
                abort(404)
        form.slug.data = profile.slug
        form.name.data = profile.name
        form.description.data = profile.description
        form.requirements.data = " ".join(profile.requirements)
    error = None
    if form.validate_on_submit():
        account = current_account()
        assert account is not None
        try:
            with database_session() as db:
                saved = save_profile(
                    db,
                    slug=form.slug.data,
                    name=form.name.data,
                    description=form.description.data or "",
                    requirements=parse_requirements(form.requirements.data),
                    editor=account.email,
                )
                record_event(
                    db,
                    "hr.profile.saved",
                    actor=account.email,
                    target=saved.slug,
                    details={"requirements": list(saved.requirements)},
                )
        except ProfileInvalid as invalid:
            error = str(invalid)
        else:
            flash(f"Profile {saved.name} saved.", "success")
            return redirect(url_for("hr_profiles.index"))
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "hr/profile_edit.html",
        form=form,
        slug=slug,
        error=error,
        subjects=subjects_by_code(),
    )
    return page, status
