"""Error pages in the site's style, without technical detail."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from index.errors import IndexDomainError, IndexUnavailable, InvalidParameter
from index.geo.errors import GeocodeError
from index.params import PLACE_NOT_UNDERSTOOD
from search_app.i18n import current_lang
from surveys.errors import InvitationError, SurveyError
from surveys.signin_links import SignInLinkError

# Lazy: translated when a page is shown, in that request's language.
MESSAGES = {
    400: lazy_gettext("入力内容を確認してください。"),
    403: lazy_gettext("このページを表示する権限がありません。"),
    404: lazy_gettext("ページが見つかりません。"),
    405: lazy_gettext("この操作はできません。"),
    413: lazy_gettext("ファイルが大きすぎます。"),
    500: lazy_gettext("システムで問題が発生しました。時間をおいてもう一度お試しください。"),
}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(SurveyError, _domain_error)
    app.register_error_handler(IndexDomainError, _domain_error)
    app.register_error_handler(GeocodeError, _domain_error)
    app.register_error_handler(Exception, _unexpected)


INVALID_TOKEN = "invalid_token"
# How long a client should wait while the search index is being prepared (a rebuild of the
# demo's 600 facilities takes seconds).
RETRY_AFTER_SECONDS = 30
# The `code` of the JSON error body for each status answered with an error.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def is_api_path(path: str) -> bool:
    """Tell whether a path belongs to the JSON API (its errors are JSON)."""
    return path.startswith("/api/") or path == "/healthz"


def json_error(status: int, message: str, code: str = "", field: str | None = None, **extra):
    """Return the app's one JSON error body (the API's): {"error": {"code", "message", "field"}}.

    Documented once as `Error` in the OpenAPI document; every JSON answer of a failure uses it.
    """
    code = code or STATUS_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    body = {"code": code, "message": message, "field": field, **extra}
    return jsonify(error=body), status


def render_error(status: int, message: str, clinic_help: bool = False):
    """Render the error page (or JSON for the API) with a status code; `clinic_help` adds how a
    clinic gets back in and how to reach the office (used, expired or closed links)."""
    if is_api_path(request.path):
        return json_error(status, message)
    page = render_template("error.html", status=status, message=message, clinic_help=clinic_help)
    return page, status


def _message(status: int) -> str:
    """Return the standard message for a status in the current language."""
    return str(MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400]))


def _csrf_error(_exc: CSRFError):
    """A form posted without a valid token (often: opened too long ago, or posted twice)."""
    return render_error(
        400,
        _("フォームの有効期限が切れました。ページを開き直してもう一度送信してください。"),
    )


def _http_error(exc: HTTPException):
    """Map HTTP errors to friendly pages, keeping their headers (Allow on a 405)."""
    body, status = render_error(exc.code or 500, _message(exc.code or 500))
    response = current_app.make_response((body, status))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _too_large(_exc: RequestEntityTooLarge):
    """An upload over the limit (MAX_CONTENT_LENGTH, or the import page's): say the limit."""
    megabytes = f"{(request.max_content_length or 0) / 2**20:g}"
    message = _(
        "ファイルが大きすぎます（上限 %(mb)s MB）。ファイルを分けてもう一度お試しください。",
        mb=megabytes,
    )
    return render_error(413, message)


def _domain_error(exc: SurveyError | IndexDomainError | GeocodeError):
    """Show a domain error's own user-safe message."""
    if is_api_path(request.path):
        return _api_domain_error(exc)
    clinic_help = isinstance(exc, InvitationError | SignInLinkError)
    return render_error(exc.status, exc.message(current_lang()), clinic_help)


def _api_domain_error(exc: SurveyError | IndexDomainError | GeocodeError):
    """Answer a domain error in the API's error body, with its code and field."""
    message = exc.message(current_lang())
    if isinstance(exc, InvalidParameter):
        return json_error(400, message, exc.code, exc.field)
    if isinstance(exc, GeocodeError):
        suggestions = list(getattr(exc, "suggestions", ()))
        return json_error(400, message, PLACE_NOT_UNDERSTOOD, "near", suggestions=suggestions)
    if isinstance(exc, IndexUnavailable):
        body, status = json_error(503, message, "index_unavailable")
        response = current_app.make_response((body, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return json_error(exc.status, message)


def _unexpected(exc: Exception):
    """Log the traceback, show a plain 500 page."""
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=exc)
    return render_error(500, _message(InternalServerError.code))
