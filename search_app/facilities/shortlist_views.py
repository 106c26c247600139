"""The staff shortlist: add, remove, note, print for the mother, share as a time-limited link."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from search_app import db, ratelimit
from search_app.auth import PROFESSIONAL_ROLES, role_required
from search_app.errors import json_error, render_error
from search_app.facilities import display, share
from search_app.facilities.forms import AddForm, FacilityForm, NoteForm
from search_app.facilities.shortlist import Shortlist, ShortlistError
from search_app.forms import ActionForm
from search_app.i18n import current_lang
from search_app.questionnaire import current_questionnaire
from surveys.listings import Listing, load_listings
from surveys.operations import today_in_japan

bp = Blueprint("shortlist", __name__, url_prefix="/shortlist")
staff_only = role_required(*PROFESSIONAL_ROLES)


@bp.after_request
def _no_store(response):
    """Notes and lists must not stay in shared caches or the back-forward cache of a shared PC."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _listings(ids: list[int]) -> list[Listing]:
    """Return the listings of these facility ids, in the same order, skipping deleted ones."""
    found = load_listings(db.session(), ids) if ids else {}
    return [found[i] for i in ids if i in found]


def _checked(form_class):
    """Return the posted form when valid, else stop with 400 (hidden fields were altered)."""
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.route("/")
@staff_only
def index():
    """The shortlist with notes, print and share buttons."""
    shortlist = Shortlist.from_session(session)
    rows = [(lst, shortlist.get(lst.facility.id)) for lst in _listings(shortlist.ids)]
    return render_template(
        "shortlist/index.html", rows=rows, form=ActionForm(), note_form=NoteForm()
    )


@bp.route("/add", methods=["POST"])
@staff_only
def add():
    """Add a facility, then go back where the button was."""
    form = _checked(AddForm)
    found = load_listings(db.session(), [form.facility_id.data]).get(form.facility_id.data)
    if found is None or not found.is_searched:  # referrers shortlist psychiatric facilities
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        return _add_for_script(form.facility_id.data)
    _change(
        lambda s: s.add(form.facility_id.data),
        _("候補リストに追加しました。"),
        _("すでに候補リストにあります。"),
    )
    return redirect(form.safe_next(url_for("shortlist.index")))


@bp.route("/remove", methods=["POST"])
@staff_only
def remove():
    """Remove a facility from the shortlist."""
    form = _checked(FacilityForm)
    _change(lambda s: s.remove(form.facility_id.data), _("候補リストから外しました。"))
    return redirect(url_for("shortlist.index"))


@bp.route("/note", methods=["POST"])
@staff_only
def note():
    """Save the note of one shortlisted facility."""
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(url_for("shortlist.index"))
    data = form.facility_id.data, form.note.data or "", form.print_note.data
    _change(
        lambda s: s.set_note(*data),
        _("メモを保存しました。"),
        _("この医療機関は候補リストにありません。"),
    )
    return redirect(url_for("shortlist.index") + f"#facility-{form.facility_id.data}")


@bp.route("/clear", methods=["POST"])
@staff_only
def clear():
    """Empty the shortlist (after the visit, on a shared device)."""
    _checked(ActionForm)
    session.pop("shortlist", None)
    flash(_("候補リストを空にしました。"), "success")
    return redirect(url_for("shortlist.index"))


def _add_for_script(facility_id: int):
    """Add for the results page's script, which stays where the nurse is: JSON, no flash."""
    shortlist = Shortlist.from_session(session)
    try:
        shortlist.add(facility_id)
        shortlist.save(session, current_app)
    except ShortlistError as exc:
        return json_error(409, exc.message(current_lang()))
    return jsonify(ok=True, count=len(shortlist.ids), message=_("候補リストに追加しました。"))


def _change(action, done: str, unchanged: str = "") -> None:
    """Apply a change to the session's shortlist and say what happened (False: nothing to do)."""
    shortlist = Shortlist.from_session(session)
    try:
        if action(shortlist) is False:
            flash(unchanged, "info")
            return
        shortlist.save(session, current_app)
    except ShortlistError as exc:
        flash(exc.message(current_lang()), "error")
        return
    flash(done, "success")


def _first_error(form) -> str:
    """Return the first validation message of a form (CSRF is checked before the view)."""
    found = next((errors[0] for errors in form.errors.values() if errors), "")
    return found or _("入力内容を確認してください。")


@bp.route("/print")
@staff_only
def print_view():
    """A4 sheet for the mother: clinics, phones, addresses, what to bring, chosen notes."""
    shortlist = Shortlist.from_session(session)
    notes = {e.facility_id: e.note for e in shortlist.entries if e.print_note and e.note}
    rows = display.sheet_rows(current_questionnaire(), _listings(shortlist.ids), notes)
    return render_template("shortlist/print.html", rows=rows, today=today_in_japan())


@bp.route("/share", methods=["POST"])
@staff_only
def make_share():
    """Create a share link for the publicly listed facilities of the shortlist."""
    _checked(ActionForm)
    listings = _listings(Shortlist.from_session(session).ids)
    public = [lst for lst in listings if lst.is_public]
    days = int(current_app.config["SHARE_LINK_DAYS"])
    shared = share.shared_list([lst.facility.id for lst in public], days)
    token = share.dumps(current_app.config["SECRET_KEY"], shared)
    return render_template(
        "shortlist/share.html",
        url=url_for("shortlist.shared", token=token, _external=True),
        shared=shared,
        public=public,
        left_out=[lst for lst in listings if not lst.is_public],
    )


@bp.route("/shared/<token>")
def shared(token: str):
    """What a share link shows: public fields of publicly listed facilities, nothing else."""
    ratelimit.enforce_per_ip("share_ip")
    try:
        shared_list = share.loads(current_app.config["SECRET_KEY"], token)
    except (share.ShareLinkInvalid, share.ShareLinkExpired) as exc:
        return render_error(exc.status, exc.message(current_lang()))
    listings = [lst for lst in _listings(list(shared_list.facility_ids)) if lst.is_public]
    rows = display.sheet_rows(current_questionnaire(), listings)
    return render_template("shortlist/shared.html", rows=rows, shared=shared_list)
