"""JSON API v1: search, facility detail, OpenAPI description; and /healthz."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, session
from flask_babel import gettext as _
from sqlmodel import func, select

from index.sync import pending_count
from search_app import db, search
from search_app.api.openapi import MAX_AGE, openapi_document
from search_app.auth import bearer_token, current_principal, is_professional, token_user
from search_app.errors import INVALID_TOKEN, RETRY_AFTER_SECONDS, is_api_path, json_error
from search_app.i18n import current_lang
from search_app.questionnaire import current_questionnaire
from search_app.security import csrf
from surveys.listings import Listing, load_listings, public_links
from surveys.models import Facility, FacilityPublic

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)
# The API takes no form posts: any method but GET/HEAD is a 405 (not a CSRF 400).
csrf.exempt(bp)
csrf.exempt(health_bp)
JSON_UTF8 = "application/json; charset=utf-8"


def init_app(app: Flask) -> None:
    """Give every API answer its content type and caching rule."""
    app.after_request(_api_headers)


def _api_headers(response: Response) -> Response:
    """JSON in UTF-8; public answers cacheable briefly, anything personal or failed not."""
    if not is_api_path(request.path):
        return response
    if response.mimetype == "application/json":
        response.content_type = JSON_UTF8
    response.headers["Cache-Control"] = _cache_control(response.status_code)
    response.vary.update(("Authorization", "Cookie"))
    return response


def _cache_control(status: int) -> str:
    """Return the Cache-Control of an API answer."""
    if request.path == "/healthz" or status >= 400:
        return "no-store"
    # A token, a signed-in user, or a session being written (?lang= sets a cookie).
    if "Authorization" in request.headers or current_principal().role is not None:
        return "private, no-store"
    if session.modified:
        return "private, no-store"
    return f"public, max-age={MAX_AGE}"


@bp.before_request
def _refuse_bad_token():
    """A token that is wrong, revoked or expired gets 401 (not silently the public view)."""
    if bearer_token() is None or token_user() is not None:
        return None
    message = _("APIトークンが無効です（誤り、失効済み、または有効期限切れ）。")
    body, status = json_error(401, message, INVALID_TOKEN)
    response = current_app.make_response((body, status))
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


@bp.route("/search")
def search_facilities():
    """Search facilities: text, place, filters; distance-ranked when a place is given."""
    professional = is_professional()
    questionnaire = current_questionnaire()
    found = search.find(request.args, questionnaire, professional)
    result, origin = found.result, found.origin
    lang = current_lang()
    results = [
        {
            **_facility_json(listing, questionnaire, professional, hit.distance_km),
            "accepts": hit.accepts,
            "rank_reasons": [{**r.as_dict(), "text": r.text(lang)} for r in hit.reasons],
        }
        for hit, listing in found.rows
    ]
    notice = None
    if found.outside_area:
        notice = {
            "code": "outside_area",
            "message": search.outside_area_message(found.outside_area, lang),
        }
    elif found.unknown_partner:
        notice = {
            "code": search.UNKNOWN_PARTNER,
            "message": search.unknown_partner_message(lang),
        }
    return jsonify(
        total=result.total,
        declined_total=result.declined_total,
        notice=notice,
        page=result.page,
        per_page=result.per_page,
        sort=result.sort,
        origin={**origin.__dict__, "suggestions": list(origin.suggestions)} if origin else None,
        local_contacts=_contacts_json(found.contacts),
        results=results,
    )


def _contacts_json(contacts) -> dict | None:
    """Return the contact points of the searched place's municipality (null: none)."""
    if contacts is None:
        return None
    return {
        "municipality_code": contacts.municipality_code,
        "municipality": contacts.municipality,
        "contact_points": [
            {
                "id": point.id,
                "name": point.name,
                "kind": point.kind,
                "phone": point.phone,
                "hours": point.hours,
                "address": point.address,
            }
            for point in contacts.points
        ],
    }


@bp.route("/facilities/<int:facility_id>")
def facility_detail(facility_id: int):
    """One facility with its current answers; an ETag lets clients revalidate (304)."""
    professional = is_professional()
    listing = load_listings(db.session(), [facility_id]).get(facility_id)
    if listing is None or not listing.visible_to(professional) or not listing.is_searched:
        return json_error(404, _not_found_message())  # hearing answers are never served
    response = jsonify(_facility_json(listing, current_questionnaire(), professional, None))
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document(current_questionnaire()))


@health_bp.route("/healthz")
def healthz():
    """Status for monitors: database and index state."""
    session = db.session()
    facilities = session.exec(select(func.count()).select_from(Facility)).one()
    index_state = _index_state()
    status = "ok" if index_state["state"] == "ok" else "degraded"
    index_state["pending"] = pending_count(session)
    response = jsonify(status=status, facilities=facilities, index=index_state)
    if status != "ok":
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _index_state() -> dict[str, Any]:
    """Describe the index: ok with its document count, or unavailable / rebuilding."""
    return search.index_state()


def _facility_json(listing: Listing, questionnaire, professional: bool, distance_km) -> dict:
    """Return the JSON of one facility; the public gets public answers only."""
    answers = listing.answers_for(questionnaire, professional)
    if not professional:
        answers = public_links(db.session(), questionnaire, answers)
    public = FacilityPublic.model_validate(
        listing.facility,
        update={
            "distance_km": distance_km,
            "verified_on": listing.verified_on,
            "answers": answers,
        },
    )
    return public.model_dump(mode="json")


def _not_found_message() -> str:
    """Return 'not found' in the current language."""
    return "Facility not found." if current_lang() == "en" else "医療機関が見つかりません。"
