"""CSRF protection and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from index.errors import InvalidParameter

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# Geolocation stays allowed for this site: "use my location" on the search page.
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that stops at the largest database id: /facilities/99999999999999999999 is a
    404, not an overflow inside the database driver. At most 10 digits match, so a long
    number is never converted (Python refuses over 4,300 digits)."""

    regex = r"\d{1,10}"

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    """Turn on CSRF for every form post, refuse NUL characters, add the security headers."""
    csrf.init_app(app)
    app.before_request(_refuse_nul)
    app.extensions["pmh_csp"] = content_security_policy(app.config["MAP_TILE_URL"])
    app.after_request(_headers)
    trusted = int(app.config["TRUSTED_PROXIES"] or 0)
    if trusted:  # behind nginx etc.: the client's address and scheme come from its headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)


def content_security_policy(tile_url: str) -> str:
    """Return the CSP, allowing images from the map tile host when tiles are configured."""
    parts = urlsplit(tile_url)
    origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return CSP.format(tiles=origin)


def _refuse_nul(_unused=None):
    """Refuse a NUL character in any parameter: no form needs one, and PostgreSQL cannot even
    compare text with it (each query would fail with a 500 instead of a message)."""
    for source in (request.args, request.form):
        for name, values in source.lists():
            if "\x00" not in name and any("\x00" in value for value in values):
                return _bad_parameter(name)  # (a name with NUL is no field: never read)
    return None


def _bad_parameter(field: str):
    """Answer 400 naming the field (the API's JSON error, the error page otherwise)."""
    from search_app.errors import render_error

    if request.path.startswith("/api/"):
        raise InvalidParameter(
            field,
            f"「{field}」に使用できない文字が含まれています。",
            f"'{field}' contains a character that is not allowed.",
        )
    return render_error(400, _("入力内容を確認してください。"))


def production_problems(config) -> list[str]:
    """Return why this configuration must not run in production (empty: fine)."""
    if config["ENV_NAME"] != "production":
        return []
    problems = []
    if config["DEBUG"]:
        problems.append("DEBUG must be off in production")
    if not config["SECRET_KEY"]:
        problems.append("set SECRET_KEY (PMH_SECRET_KEY) explicitly in production")
    if config["AUDIT_KEY"] and len(str(config["AUDIT_KEY"])) < 32:
        problems.append("AUDIT_KEY (PMH_AUDIT_KEY) must be at least 32 characters")
    if config["SESSION_COOKIE_SAMESITE"] not in ("Lax", "Strict"):
        problems.append("SESSION_COOKIE_SAMESITE must be Lax or Strict in production")
    return problems


def harden_production(config) -> None:
    """Secure cookies in production: HTTPS-only, not readable by scripts."""
    if config["ENV_NAME"] != "production":
        return
    config["SESSION_COOKIE_SECURE"] = True
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config.setdefault("REMEMBER_COOKIE_SAMESITE", config["SESSION_COOKIE_SAMESITE"])
    config["PREFERRED_URL_SCHEME"] = "https"


def _headers(response: Response) -> Response:
    """Set conservative security headers."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.extensions["pmh_csp"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure or current_app.config["PREFERRED_URL_SCHEME"] == "https":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if _private(response) and "Cache-Control" not in headers:  # the API sets its own
        headers["Cache-Control"] = "no-store"
    return response


def _private(response: Response) -> bool:
    """Tell whether the response must not be stored: any POST, or a page for a signed-in user."""
    from search_app.auth import current_principal

    if request.method == "POST":
        return True
    signed_in = current_principal().role is not None
    return signed_in and not request.path.startswith("/static/")
