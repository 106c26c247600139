"""JSON API v1: search, facility detail, OpenAPI description; and /healthz."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlmodel import func, select

from index.errors import AddressNotUnderstood, IndexDomainError, IndexUnavailable, InvalidParameter
from index.sync import pending_count
from search_app import db, search
from search_app.api.openapi import openapi_document
from search_app.auth import bearer_token, is_professional, token_user
from search_app.i18n import current_lang
from surveys.listings import Listing, load_listings
from surveys.models import Facility
from surveys.questionnaire import Questionnaire, load_version

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)


def _questionnaire() -> Questionnaire:
    """Return the questionnaire edition in use."""
    return load_version(current_app.config["QUESTIONNAIRE_VERSION"])


def api_error(status: int, code: str, message: str, field: str | None = None, **extra):
    """Return the API's error body."""
    return jsonify(error={"code": code, "message": message, "field": field, **extra}), status


@bp.before_request
def _refuse_bad_token():
    """A token that is wrong, revoked or expired gets 401 (not silently the public view)."""
    if bearer_token() is None or token_user() is not None:
        return None
    message = _("APIトークンが無効です（誤り、失効済み、または有効期限切れ）。")
    response, status = api_error(401, "invalid_token", message)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response, status


@bp.errorhandler(IndexDomainError)
def _domain_error(exc: IndexDomainError):
    """Map search-domain errors to JSON."""
    lang = current_lang()
    if isinstance(exc, InvalidParameter):
        return api_error(400, "invalid_parameter", exc.message(lang), exc.field)
    if isinstance(exc, AddressNotUnderstood):
        return api_error(
            400,
            "place_not_understood",
            exc.message(lang),
            "near",
            suggestions=list(exc.suggestions),
        )
    if isinstance(exc, IndexUnavailable):
        return api_error(503, "index_unavailable", exc.message(lang))
    return api_error(exc.status, "bad_request", exc.message(lang))


@bp.route("/search")
def search_facilities():
    """Search facilities: text, place, filters; distance-ranked when a place is given."""
    professional = is_professional()
    questionnaire = _questionnaire()
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
    return jsonify(
        total=result.total,
        declined_total=result.declined_total,
        notice=notice,
        page=result.page,
        per_page=result.per_page,
        sort=result.sort,
        origin={**origin.__dict__, "suggestions": list(origin.suggestions)} if origin else None,
        results=results,
    )


@bp.route("/facilities/<int:facility_id>")
def facility_detail(facility_id: int):
    """One facility with its current answers (public listings only, without a token)."""
    professional = is_professional()
    listing = load_listings(db.session(), [facility_id]).get(facility_id)
    if listing is None or not listing.visible_to(professional):
        return api_error(404, "not_found", _not_found_message())
    return jsonify(_facility_json(listing, _questionnaire(), professional, None))


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document(_questionnaire()))


@health_bp.route("/healthz")
def healthz():
    """Status for monitors: database and index state."""
    session = db.session()
    facilities = session.exec(select(func.count()).select_from(Facility)).one()
    index_state = _index_state()
    status = "ok" if index_state["state"] == "ok" else "degraded"
    index_state["pending"] = pending_count(session)
    return jsonify(status=status, facilities=facilities, index=index_state), (
        200 if status == "ok" else 503
    )


def _index_state() -> dict[str, Any]:
    """Describe the index: ok with its document count, or unavailable / rebuilding."""
    return search.index_state()


def _facility_json(listing: Listing, questionnaire, professional: bool, distance_km) -> dict:
    """Return the JSON of one facility; the public gets public answers only."""
    facility = listing.facility
    return {
        "id": facility.id,
        "name": facility.name,
        "kana": facility.kana,
        "kind": facility.kind,
        "address": facility.address,
        "postal_code": facility.postal_code,
        "lat": facility.lat,
        "lng": facility.lng,
        "distance_km": distance_km,
        "municipality_code": facility.municipality_code,
        "phone": facility.phone,
        "website": facility.website,
        "hours": facility.hours,
        "verified_on": listing.verified_on.isoformat() if listing.verified_on else None,
        "answers": listing.answers_for(questionnaire, professional),
    }


def _not_found_message() -> str:
    """Return 'not found' in the current language."""
    return "Facility not found." if current_lang() == "en" else "医療機関が見つかりません。"
