"""Language choice: Japanese first, English second; remembered in the session."""

from __future__ import annotations

from datetime import date

from flask import Flask, g, request, session

LANGUAGES = ("ja", "en")


def init_app(app: Flask) -> None:
    """Pick the language for each request and expose `t()` and `lang` to templates."""
    app.before_request(_pick_language)
    app.jinja_env.globals.update(t=translate, languages=LANGUAGES)
    app.jinja_env.filters["jdate"] = format_date
    app.context_processor(lambda: {"lang": current_lang()})


def _pick_language() -> None:
    """Use ?lang= when given (and remember it), else the session, else Japanese."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    g.lang = session.get("lang") if session.get("lang") in LANGUAGES else "ja"


def current_lang() -> str:
    """Return the language of this request."""
    return g.get("lang", "ja")


def translate(ja: str, en: str) -> str:
    """Return the text in the current language."""
    return en if current_lang() == "en" else ja


def format_date(value: date | None) -> str:
    """Format a date Japanese style in Japanese (2026年11月28日), else 28 Nov 2026."""
    if value is None:
        return ""
    if current_lang() == "en":
        return f"{value.day} {value.strftime('%b')} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"
