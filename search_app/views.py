"""The search page: one bookmarkable GET URL per search, list and map."""

from __future__ import annotations

import math

from flask import Blueprint, render_template, request, session, url_for

from index.errors import InvalidParameter
from index.geo.errors import AddressNotUnderstood
from search_app import db, search
from search_app.auth import is_professional
from search_app.facilities.shortlist import Shortlist
from search_app.i18n import current_lang
from search_app.questionnaire import current_questionnaire
from search_app.search_form import build_search_form, has_search, situation_summary, to_params
from surveys.listings import Scope, directory_scope

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """Search form, and the results when the page carries a search."""
    questionnaire = current_questionnaire()
    form = build_search_form(questionnaire, request.args)
    if not has_search(request.args):
        return render_template(
            "search.html",
            form=form,
            searched=False,
            scope=_scope(),
            prefecture=search.covered_name(current_lang()),
        )
    params = {**to_params(form), "page": request.args.get("page", "1")}
    try:
        found = search.find(params, questionnaire, is_professional())
    except (InvalidParameter, AddressNotUnderstood) as exc:
        return _error_page(form, exc), 400
    return _results_page(form, found, params, questionnaire)


def _error_page(form, exc: InvalidParameter | AddressNotUnderstood) -> str:
    """Render the form again with the message of a search that could not run."""
    return render_template(
        "search.html",
        form=form,
        searched=False,
        error=exc.message(current_lang()),
        error_field=getattr(exc, "field", "near"),
        suggestions=_suggestion_links(getattr(exc, "suggestions", ())),
    )


def _results_page(form, found: search.Found, params: dict, questionnaire) -> str:
    """Render the form with one page of results, their map markers and the local contacts."""
    result, rows, lang = found.result, found.rows, current_lang()
    return render_template(
        "search.html",
        form=form,
        searched=True,
        result=result,
        rows=rows,
        origin=found.origin,
        questionnaire=questionnaire,
        pages=_pages(result),
        markers=_markers(rows),
        declined_url=_declined_url(result),
        situation_text=situation_summary(params),
        outside_area=found.outside_area and search.outside_area_message(found.outside_area, lang),
        place_suggestions=_suggestion_links(found.origin.suggestions if found.origin else ()),
        back_args={"back": request.full_path},
        shortlisted=set(Shortlist.from_session(session).ids),
        patients_keys=_patients_keys(params.get("situation", "")),
        partner=found.partner,
        unknown_partner=found.unknown_partner and search.unknown_partner_message(lang),
        contacts=found.contacts,
    )


def _patients_keys(situation: str) -> list[str]:
    """Return the "which patients" items that matter for the situations asked (all if none)."""
    kinds = [k for k in ("pregnant", "postpartum") if k in situation] or ["pregnant", "postpartum"]
    return [f"{kind}_patients" for kind in kinds]


def _suggestion_links(names) -> list[tuple[str, str]]:
    """Return (name, URL of the same search near that name) for each suggested place."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "near")}
    for key in ("lat", "lng"):
        args.pop(key, None)
    return [(name, url_for("main.home", _anchor="results", **args, near=name)) for name in names]


def _declined_url(result) -> str | None:
    """Return the link that adds declining and unanswered facilities (None: nothing to add)."""
    if not result.declined_total or request.args.get("include_declined"):
        return None
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"}
    return url_for("main.home", _anchor="results", **args, include_declined="true")


@bp.route("/help")
def help_page():
    """How to search: the situation, the recommended order, places, reports."""
    return render_template("pages/help.html")


@bp.route("/contact")
def contact():
    """The programme office's contact details (from configuration)."""
    return render_template("pages/contact.html")


@bp.route("/privacy")
def privacy():
    """What is stored and what is not."""
    return render_template("pages/privacy.html")


def _scope() -> Scope:
    """Return what the directory holds, for the home page's scope sentence."""
    return directory_scope(db.session())


def _pages(result) -> list[tuple[int, str]]:
    """Return (page number, URL) for the pagination, keeping every other parameter."""
    count = max(1, math.ceil(result.total / result.per_page))
    args = request.args.to_dict(flat=False)
    pages = []
    for number in range(max(1, result.page - 3), min(count, result.page + 3) + 1):
        args["page"] = [str(number)]
        pages.append((number, url_for("main.home", _anchor="results", **args)))
    return pages


def _markers(rows) -> list[dict]:
    """Return map markers for the results that have coordinates."""
    return [
        {
            "lat": lst.facility.lat,
            "lng": lst.facility.lng,
            "name": lst.facility.name,
            "url": url_for("facilities.detail", facility_id=lst.facility.id),
            "n": n,
        }
        for n, (_hit, lst) in enumerate(rows, start=1)
        if lst.facility.lat is not None
    ]
