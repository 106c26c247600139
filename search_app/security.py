"""CSRF protection and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Turn on CSRF for every form post and add security headers to every response."""
    csrf.init_app(app)
    app.extensions["pmh_csp"] = content_security_policy(app.config.get("MAP_TILE_URL", ""))
    app.after_request(_headers)


def content_security_policy(tile_url: str) -> str:
    """Return the CSP, allowing images from the map tile host when tiles are configured."""
    parts = urlsplit(tile_url)
    origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return CSP.format(tiles=origin)


def _headers(response: Response) -> Response:
    """Set conservative security headers."""
    response.headers.setdefault("Content-Security-Policy", current_app.extensions["pmh_csp"])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
