"""Language choice and translation: Japanese first (the source text), English from a catalogue.

Strings are written in Japanese and marked with `_()` (`gettext`), `ngettext` or `pgettext`;
`translations/en/LC_MESSAGES/messages.po` holds their English. The language comes from
`?lang=` (remembered in the session), else the session, else Japanese.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as babel_format_date
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel

from surveys.bilingual import bilingual

LANGUAGES = ("ja", "en")
# (Babel locale, pattern) per language: 2026年11月28日 / 28 Nov 2026.
DATE_STYLES = {"ja": ("ja", "long"), "en": ("en_GB", "medium")}

babel = Babel()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (templates get `_`, `gettext`, `ngettext`, `pgettext`) and `jdate`."""
    babel.init_app(app, locale_selector=current_lang)
    app.before_request(_pick_language)
    app.jinja_env.globals.update(languages=LANGUAGES, bilingual=bilingual)
    app.jinja_env.filters["jdate"] = format_date
    app.context_processor(lambda: {"lang": current_lang()})


def _pick_language() -> None:
    """Use ?lang= when given (and remember it), else the session, else Japanese."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    g.lang = session.get("lang") if session.get("lang") in LANGUAGES else "ja"


def current_lang() -> str:
    """Return the language of this request ("ja" outside a request)."""
    if not has_request_context():
        return "ja"
    if "lang" not in g:
        _pick_language()
    return g.lang


def format_date(value: date | None) -> str:
    """Format a date Japanese style in Japanese (2026年11月28日), English style in English."""
    if value is None:
        return ""
    locale, pattern = DATE_STYLES[current_lang()]
    return babel_format_date(value, format=pattern, locale=locale)
