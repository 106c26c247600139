"""Error pages in the site's style, without technical detail."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from index.errors import IndexDomainError
from search_app.i18n import current_lang
from surveys.errors import SurveyError

MESSAGES = {
    400: ("入力内容を確認してください。", "Please check what you entered."),
    403: ("このページを表示する権限がありません。", "You do not have access to this page."),
    404: ("ページが見つかりません。", "Page not found."),
    405: ("この操作はできません。", "This action is not allowed here."),
    413: ("ファイルが大きすぎます。", "The file is too large."),
    500: (
        "システムで問題が発生しました。時間をおいてもう一度お試しください。",
        "Something went wrong on our side. Please try again later.",
    ),
}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SurveyError, _domain_error)
    app.register_error_handler(IndexDomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)


def render_error(status: int, message: str):
    """Render the error page (or JSON for the API) with a status code."""
    if request.path.startswith("/api/"):
        return jsonify(error={"code": status, "message": message, "field": None}), status
    return render_template("error.html", status=status, message=message), status


def _message(status: int) -> str:
    """Return the standard message for a status in the current language."""
    ja, en = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return en if current_lang() == "en" else ja


def _csrf_error(_exc: CSRFError):
    """A form posted without a valid token (often: opened too long ago, or posted twice)."""
    ja = "フォームの有効期限が切れました。ページを開き直してもう一度送信してください。"
    en = "This form has expired. Please reload the page and submit again."
    return render_error(400, en if current_lang() == "en" else ja)


def _http_error(exc: HTTPException):
    """Map HTTP errors to friendly pages."""
    return render_error(exc.code or 500, _message(exc.code or 500))


def _domain_error(exc: SurveyError | IndexDomainError):
    """Show a domain error's own user-safe message."""
    return render_error(exc.status, exc.message(current_lang()))


def _unexpected(exc: Exception):
    """Log the traceback, show a plain 500 page."""
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=exc)
    return render_error(500, _message(InternalServerError.code))
