"""Facility page and the "could not get an appointment" report (thin: operations in surveys)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from search_app import db, search
from search_app.auth import PROFESSIONAL_ROLES, current_principal, is_professional, role_required
from search_app.facilities import display
from search_app.facilities.forms import AddForm, ReportForm
from search_app.facilities.shortlist import Shortlist
from search_app.i18n import current_lang
from surveys import reports
from surveys.listings import Listing, load_listings

bp = Blueprint("facilities", __name__, url_prefix="/facilities")


def visible_listing(facility_id: int, professional: bool) -> Listing:
    """Return the listing if this audience may see it, else 404 (never say it exists)."""
    listing = load_listings(db.session(), [facility_id]).get(facility_id)
    if listing is None:
        abort(404)
    if listing.is_searched and not listing.visible_to(professional):
        abort(404)  # an obstetric unit or contact point shows its public master data to all
    return listing


def is_referrer() -> bool:
    """Tell whether the signed-in user may shortlist and report (staff or admin)."""
    return current_principal().role in PROFESSIONAL_ROLES


@bp.route("/<int:facility_id>")
def detail(facility_id: int):
    """Everything a referrer (or the public) may know about one facility."""
    professional = is_professional()
    return _render_detail(visible_listing(facility_id, professional), professional)


def _render_detail(listing: Listing, professional: bool, report_form=None, status: int = 200):
    """Render the facility page."""
    questionnaire = display.questionnaire_for(
        db.session(), listing, current_app.config["QUESTIONNAIRE_VERSION"]
    )
    back = search.back_to_results(request.args.get("back"))
    return render_template(
        "facilities/detail.html",
        back=back,
        **display.getting_there(listing.facility, search.searched_place(back)),
        listing=listing,
        facility=listing.facility,
        sections=display.answer_sections(questionnaire, listing, professional)
        if listing.is_searched
        else [],
        named_by=display.naming_listings(listing.facility, professional),
        partner_search=display.partner_search_url(listing.facility),
        referrer=is_referrer() and listing.is_searched,
        in_shortlist=listing.facility.id in Shortlist.from_session(session).ids,
        add_form=AddForm(),
        report_form=report_form or ReportForm(lang=current_lang()),
    ), status


@bp.route("/<int:facility_id>/report", methods=["POST"])
@role_required(*PROFESSIONAL_ROLES)
def report(facility_id: int):
    """Record that a referrer could not get an appointment here (no patient data)."""
    listing = visible_listing(facility_id, True)
    if not listing.is_searched:
        abort(404)  # reports are about psychiatric facilities' appointments
    form = ReportForm(lang=current_lang())
    if not form.validate_on_submit():
        return _render_detail(listing, True, report_form=form, status=422)
    try:
        reports.create_report(
            db.session(),
            listing.facility,
            form.reason.data,
            form.comment.data or "",
            current_principal().actor,
        )
    except reports.DuplicateReport as exc:
        db.session().rollback()
        flash(exc.message(current_lang()), "info")
        return redirect(url_for("facilities.detail", facility_id=facility_id))
    db.session().commit()
    search.sync_after_commit(db.session())
    flash(_thanks(), "success")
    return redirect(url_for("facilities.detail", facility_id=facility_id))


def _thanks() -> str:
    """Return the message shown after a report."""
    return _("ご報告ありがとうございます。事務局が確認し、医療機関に回答内容の再確認を依頼します。")
