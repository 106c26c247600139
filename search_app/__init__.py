"""Flask web layer: the application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from search_app import config as default_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults, then instance config, then PMH_* environment, then test config."""
    app = Flask(
        __name__,
        instance_path=_instance_path(test_config),
        instance_relative_config=True,
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PMH")
    if test_config:
        app.config.from_mapping(test_config)
    _finish_config(app)
    app.json.ensure_ascii = False  # Japanese stays readable in the JSON API
    _init_extensions(app)
    _register_blueprints(app)
    _add_template_helpers(app)
    return app


def _instance_path(test_config: dict | None) -> str:
    """Pick the instance folder: test config, then PMH_INSTANCE_PATH, then ./instance."""
    path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("PMH_INSTANCE_PATH")
    return str(Path(path or Path.cwd() / "instance").resolve())


def _finish_config(app: Flask) -> None:
    """Derive settings that depend on the instance folder."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'pmh.sqlite3'}"
    from search_app.security import harden_production, production_problems

    problems = production_problems(app.config | {"DEBUG": app.debug})
    if problems:
        raise RuntimeError("; ".join(problems))
    harden_production(app.config)
    if app.config["INDEX_AUTO_REBUILD"] is None:
        app.config["INDEX_AUTO_REBUILD"] = not app.testing
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """Read, or create once, a random secret key kept in the instance folder."""
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _init_extensions(app: Flask) -> None:
    """Bind the extensions and app-wide hooks (before-request hooks run in this order)."""
    from search_app import auth, db, errors, i18n, privacy, qr, ratelimit, search, security, uploads
    from search_app.api import init_app as init_api
    from search_app.cli import init_app as init_cli

    privacy.install()  # process-wide: the request loggers drop query strings (typed addresses)
    db.init_app(app)  # the engine, first: the audit key and the rate limiter's storage need it
    search.init_app(app)
    i18n.init_app(app)
    # First hook that reads the body: the upload limit must be set before CSRF and the NUL
    # check parse the form.
    uploads.init_app(app)
    # Flask's `int` URL converter, replaced for every route (ids past the database's range are
    # a 404, not a driver overflow): before any blueprint adds its routes, which keep the
    # converter they were built with.
    app.url_map.converters["int"] = security.DatabaseIdConverter
    security.init_app(app)
    ratelimit.init_app(app)  # the limiter (database or Redis) and its 429 page
    auth.init_app(app)
    errors.init_app(app)
    init_api(app)
    qr.init_app(app)
    init_cli(app)


def _register_blueprints(app: Flask) -> None:
    """Register every blueprint (after the URL converter is in place)."""
    from search_app import auth, views
    from search_app.account import bp as account_bp
    from search_app.admin import bp as admin_bp
    from search_app.api import bp as api_bp
    from search_app.api import health_bp
    from search_app.clinic import access_bp, pulse_bp
    from search_app.clinic import bp as clinic_bp
    from search_app.facilities import bp as facility_bp
    from search_app.facilities import referrals_bp, shortlist_bp

    blueprints = (views.bp, auth.bp, clinic_bp, pulse_bp, access_bp, api_bp, health_bp)
    for blueprint in (*blueprints, account_bp, facility_bp, shortlist_bp, referrals_bp, admin_bp):
        app.register_blueprint(blueprint)


def _add_template_helpers(app: Flask) -> None:
    """Give every template the office's contact, the admin links and the facility helpers."""
    from search_app import facilities
    from search_app.admin.nav import admin_nav_links
    from search_app.clinic.access import office_context

    app.context_processor(office_context)
    app.add_template_global(admin_nav_links)
    facilities.add_template_helpers(app)
